// The control API's request handling (method, path and body as a client sends them) against a
// fake engine: every request gets an answer with a status the API documents, never an exception
// turned into a 500, a crash or a change posted from a request it refused.
//
// Input: the first line is "METHOD PATH", the rest is the body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "../unit/support/fake_control_target.hh"
#include "control/control_api.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t line_end = std::min(input.find('\n'), input.size());
  const std::string_view first_line = input.substr(0, line_end);
  const std::size_t space = first_line.find(' ');
  longhaul::control::HttpRequest request;
  request.method = std::string(first_line.substr(0, space));
  request.path = space == std::string_view::npos ? "/" : std::string(first_line.substr(space + 1));
  request.body = std::string(input.substr(std::min(line_end + 1, input.size())));

  longhaul::test_support::FakeControlTarget target;
  longhaul::control::ControlApi api(target);
  const auto response = api.handle(request);
  // Triage: LONGHAUL_FUZZ_PRINT=1 ./control_api_fuzz crash-FILE shows the answer.
  if (std::getenv("LONGHAUL_FUZZ_PRINT") != nullptr) {
    std::fprintf(stderr, "%d %s\n", response.status, response.body.c_str());
  }
  // An exception inside the API is a 500: a bug the fuzzer must report, not an answer.
  static const std::set<int> documented = {200, 400, 404, 405, 409, 413, 501, 503};
  if (!documented.contains(response.status)) std::abort();
  // A refused request changes nothing.
  if (response.status >= 400 && !target.posted.empty()) std::abort();
  return 0;
}
