#pragma once
// The error of a test that could not run or complete: a refused connection, a
// peer that speaks another protocol, a timeout, an unavailable congestion
// control. The message is a sentence for the user; the CLI exits 1 with it
// (inside the JSON document under --json).
#include <stdexcept>

namespace longhaul::measure {

class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace longhaul::measure
