#pragma once
// `longhaul set`'s pure part: from the flags given to the request sent to a lab's control API
// (docs/api.md), and from the server's answer to the line printed. The flags are the link
// parameter schema's (link/schema.hh); which of them a running lab changes is the API's
// (control::live_keys), so `set` refuses the rest before any request.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace longhaul::cli {

/// One link flag as given: its name without "--" ("rtt", "loss-up") and its value ("" for a
/// flag without a value).
struct GivenFlag {
  std::string name;
  std::string value;
};

/// `--up` / `--down`: the direction(s) the flags are for.
enum class SetDirection { both, up, down };

struct SetInput {
  std::vector<GivenFlag> flags;
  SetDirection direction = SetDirection::both;
  std::optional<std::string> at;      ///< "+5s" (from now) or "30s" (from the lab's start)
  std::optional<std::string> outage;  ///< an outage of this length instead of flags
};

/// An HTTP request to the control API.
struct ApiRequest {
  std::string method;
  std::string path;
  nlohmann::json body;
};

/// The request for `input` on `lane`: PATCH /v1/lanes/LANE with the schema's keys, or POST
/// /v1/lanes/LANE/outage. Throws UsageError naming the flag and what to do when a flag is not
/// live, a value does not parse, flags contradict each other or nothing is asked for.
ApiRequest set_request(const std::string& lane, const SetInput& input);

/// The one line `set` prints for a server's answer ({"change": N, "at_s": T, ...}) to `request`,
/// sent to engine `name` of `kind` ("lab", "run", "bridge").
std::string set_answer_line(const std::string& kind, const std::string& name,
                            const std::string& lane, const ApiRequest& request,
                            const nlohmann::json& answer);

/// `text` with every byte outside [A-Za-z0-9-._~] percent-encoded, for a URL path segment.
std::string url_path_segment(const std::string& text);

}  // namespace longhaul::cli
