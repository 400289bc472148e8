#pragma once
// The link parameter schema: one row per parameter a user can give a link (--rtt, --rate, --loss,
// ...). Everything that names a link parameter reads this table and nothing else: the CLI flags of
// `run`, `bridge` and `bench sweep` (cli/link_flags), the topology keys of [defaults] and [[lane]]
// (link/link_flag_keys), the keys --at and schedule files may change (link/schedule_options),
// `longhaul params` and the tables in docs/run.md, docs/topology.md and the man page (checked by a
// unit test against the files). Adding a parameter is one row here, its field in LinkFlags, the
// stage that implements it and the lines of resolve_link that read it (docs/architecture.md,
// "Adding a parameter").
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "link/link_options.hh"

namespace longhaul::link {

/// The grammar of a parameter's value (core/units parsers), as users write it.
enum class ValueType : std::uint8_t {
  duration,     ///< 80ms, 1.5s, 250us; a bare 0
  rate,         ///< 500mbit, 10gbit
  percent,      ///< 0.1% (the % is required)
  queue_limit,  ///< 1000p, 4MB, 50ms
  bytes,        ///< 24B, 1400 (a bare integer is bytes)
  fraction,     ///< 1e-9
  choice,       ///< one word of a fixed set (or, for the distribution, a .dist table)
  cell,         ///< SIZE/PAYLOAD, e.g. 53/48
  netem_line,   ///< a tc-netem parameter line in tc's units
  file,         ///< a path
  flag,         ///< on when given (true/false in files)
  outages,      ///< START+LENGTH, repeatable
  changes,      ///< TIME:KEY=VALUE[,...], repeatable
  seed,         ///< a whole number 0..2^64-1
};

/// Which names a parameter has: the shared one (--rate), one per direction (--rate-up,
/// --rate-down), or both.
enum class Variants : std::uint8_t { shared, shared_and_directions, directions };

/// One link parameter.
struct Param {
  std::string_view key{};  ///< topology key, API key and the CLI flag without "--"
  Variants variants{};
  ValueType type{};
  std::string_view metavar{};  ///< the value's name in help texts ("RATE")
  std::string_view help{};     ///< one line; "command -> remote" / "remote -> command" name the
                               ///< directions (other commands substitute their own words)
  std::string_view per_direction{};  ///< "Rate" in "Rate command -> remote" (directions' help)
  std::string_view example{};        ///< a value that works, as written on the command line
  std::string_view default_text{};   ///< what holds when the parameter is not given
  std::string_view netem{};          ///< the tc-netem keyword with the same meaning, or ""
  std::string_view json_key{};  ///< where the resolved value appears in the reports' link section
  std::string_view needs{};     ///< another parameter this one requires ("rate"), or ""
  std::string_view excludes{};  ///< a parameter this one cannot be combined with, or ""
  bool live{};                  ///< may change while the link runs (--at, schedules)
  // Where the value is kept in LinkFlags (exactly one kind is set).
  std::optional<std::string> LinkFlags::*text = nullptr;
  std::optional<std::string> LinkFlags::*text_up = nullptr;
  std::optional<std::string> LinkFlags::*text_down = nullptr;
  bool LinkFlags::*on = nullptr;
  std::vector<std::string> LinkFlags::*list = nullptr;
  std::optional<std::uint64_t> LinkFlags::*number = nullptr;
};

/// Every link parameter, in the order of help texts and docs.
std::span<const Param> link_params();

/// A parameter name as a user gives it: the key, or a direction's variant ("rate-up").
struct ParamName {
  const Param* param = nullptr;
  enum class Side : std::uint8_t { shared, up, down } side = Side::shared;
  std::string name;  ///< as given: "rate-up"
};

/// Looks a name up among every parameter's names; nullopt when it is none of them.
std::optional<ParamName> find_param(std::string_view name);

/// Every name the table gives (key, then its -up/-down variants), in table order.
std::vector<std::string> param_names();

/// The names of one parameter ("rate", "rate-up", "rate-down").
std::vector<std::string> names_of(const Param& param);

/// The names --at and schedule files may change (the live rows), as one phrase for messages:
/// "rate, delay, loss, rtt, or one direction's rate-up, rate-down, ...".
std::string live_keys_text();

/// Human words for a value type ("duration", "rate", ...), as the docs' unit column says.
std::string_view value_type_name(ValueType type);

/// The text value a parameter has in `flags` for a direction (0 up, 1 down): the direction's
/// own variant if given, else the shared one. `name` receives the flag that gave it ("--rate-up").
const std::optional<std::string>& value_for(const LinkFlags& flags, const Param& param,
                                            int direction, std::string* name = nullptr);

/// The row of `key`; the key must be in the table (a programming error otherwise).
const Param& param(std::string_view key);

/// True when the user gave any of a parameter's names.
bool given(const LinkFlags& flags, const Param& param);

/// Checks every row's `needs` and `excludes` against what was given; "" or the error.
std::string check_relations(const LinkFlags& flags);

}  // namespace longhaul::link
