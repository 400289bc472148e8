#pragma once
// Topology files (TOML) -> a checked lab definition: the graph (core/topology) and each lane's
// two directions (the same parameters as `longhaul run`, see lab/link_flag_keys). Every error
// names the file, line and column, the key, and what is expected. docs/topology.md is the
// reference for the format.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/topology.hh"
#include "link/link_options.hh"

namespace longhaul::lab {

/// A topology file that cannot be used; what() is "FILE:LINE:COLUMN: sentence".
class TopologyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LabDefinition {
  std::string path;  ///< the file it came from
  core::Topology topology;
  std::vector<link::LinkSpec> lanes;  ///< parallel to topology.lanes; up = a -> b
  std::uint64_t seed = 0;  ///< the lab's seed (lane k uses derive_seed(seed, k) unless set)
};

/// Reads and checks a topology file (throws TopologyError). `name_override` replaces the file's
/// `name`; `random_seed` is used when the file gives no seed.
LabDefinition load_lab_definition(const std::string& path, const std::string& name_override,
                                  std::uint64_t random_seed);

/// Same, from text (for tests and embedded examples); `origin` is used as the file name.
LabDefinition parse_lab_definition(const std::string& text, const std::string& origin,
                                   const std::string& name_override, std::uint64_t random_seed);

/// Bytes of packet buffer the lab's lanes need (both directions of every lane).
std::uint64_t lab_buffer_bytes(const LabDefinition& lab);

/// Throws TopologyError naming the lane that makes the lab need more packet buffer than
/// `available_bytes` (what the machine can give), with the rate that would fit.
void check_lab_fits(const LabDefinition& lab, std::uint64_t available_bytes);

/// Rate assumed for buffer sizing on lanes without a rate (the lab's links are veths).
inline constexpr std::uint64_t kLabAssumedRateBps = 10'000'000'000ULL;

}  // namespace longhaul::lab
