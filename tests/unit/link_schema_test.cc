// The link parameter schema: every name it gives is a CLI flag and a topology key and nothing
// else is, every row's example resolves, relations hold, and the generated docs tables in
// docs/run.md, docs/topology.md and docs/longhaul.1 are what the table says (`make docs`).
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "cli/link_flags.hh"
#include "link/link_flag_keys.hh"
#include "link/link_options.hh"
#include "link/schema.hh"
#include "link/schema_docs.hh"

namespace longhaul::link {
namespace {

std::set<std::string> names_in_table() {
  const auto names = param_names();
  return {names.begin(), names.end()};
}

TEST(LinkSchema, EveryNameIsARunFlagAndEveryLinkFlagIsAName) {
  CLI::App app;
  LinkFlags flags;
  cli::add_link_flags(&app, flags);
  std::set<std::string> options;
  for (const CLI::Option* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) {
      if (name != "help" && name != "stats") options.insert(name);
    }
  }
  EXPECT_EQ(options, names_in_table());
}

TEST(LinkSchema, TopologyKeysAreTheTableNames) {
  const auto keys = link_flag_keys();
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()), names_in_table());
  EXPECT_EQ(keys.size(), names_in_table().size()) << "a key listed twice";
}

TEST(LinkSchema, NamesFindTheirRowAndSide) {
  const auto up = find_param("rate-up");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->param->key, "rate");
  EXPECT_EQ(up->side, ParamName::Side::up);
  EXPECT_FALSE(find_param("speed"));
  EXPECT_FALSE(find_param("rtt-up")) << "rtt is a round trip: it has no direction";
  EXPECT_FALSE(find_param("trace")) << "a trace is one direction's";
}

/// Sets `p` (and, first, what it needs) from its example, as a topology file would.
void set_with_needs(LinkFlags& flags, const Param& p) {
  if (!p.needs.empty()) set_with_needs(flags, param(p.needs));
  const std::string key =
      p.variants == Variants::directions ? std::string(p.key) + "-up" : std::string(p.key);
  LinkFlagValue value = std::string(p.example);
  if (p.type == ValueType::flag) value = true;
  if (p.type == ValueType::seed) value = std::int64_t{42};
  const auto error = set_link_flag(flags, key, value);
  ASSERT_FALSE(error) << *error;
}

/// True when `p` or what it needs names a file the user has (a schedule, a trace).
bool needs_a_file(const Param& p) {
  return p.type == ValueType::file || (!p.needs.empty() && needs_a_file(param(p.needs)));
}

TEST(LinkSchema, EveryExampleResolves) {
  for (const Param& p : link_params()) {
    if (needs_a_file(p)) continue;
    SCOPED_TRACE(std::string(p.key));
    EXPECT_FALSE(p.help.empty());
    EXPECT_EQ(p.example.empty(), p.type == ValueType::flag) << "flags take no value";
    EXPECT_FALSE(p.default_text.empty());
    LinkFlags flags;
    // A repeat period repeats steps: it needs --at or --schedule (either; not one `needs`).
    if (p.key == "schedule-repeat") set_with_needs(flags, param("at"));
    set_with_needs(flags, p);
    const auto spec = resolve_link(flags, 1);
    EXPECT_TRUE(spec) << spec.error;
  }
}

TEST(LinkSchema, ExcludedPairsAreRefusedNamingBoth) {
  LinkFlags flags;
  flags.rtt = "80ms";
  flags.delay_up = "10ms";
  const std::string error = check_relations(flags);
  EXPECT_NE(error.find("--rtt"), std::string::npos) << error;
  EXPECT_NE(error.find("--delay-up"), std::string::npos) << error;
  flags.rtt.reset();
  EXPECT_EQ(check_relations(flags), "");
}

TEST(LinkSchema, LiveKeysAreTheOnesSchedulesChange) {
  // "rtt, delay, rate, loss, or one direction's delay-up, ...": the words between separators.
  std::string text = live_keys_text();
  std::replace(text.begin(), text.end(), ',', ' ');
  std::set<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.insert(word);
  for (const Param& p : link_params()) {
    EXPECT_EQ(words.contains(std::string(p.key)), p.live) << p.key;
  }
}

TEST(LinkSchema, JsonListsEveryParameterOnce) {
  const auto json = params_json();
  EXPECT_EQ(json.at("schema"), "longhaul.params/1");
  EXPECT_EQ(json.at("params").size(), link_params().size());
}

std::string read(const std::string& relative) {
  std::ifstream in(std::string(LONGHAUL_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct GeneratedSection {
  const char* file;
  const char* name;
  std::string (*generate)();
};

TEST(LinkSchema, GeneratedDocsMatchTheTable) {
  for (const GeneratedSection& section :
       {GeneratedSection{"docs/run.md", "run-flags", run_flags_markdown},
        GeneratedSection{"docs/topology.md", "topology-keys", topology_keys_markdown},
        GeneratedSection{"docs/longhaul.1", "man-link-flags", man_link_flags}}) {
    const std::string text = read(section.file);
    ASSERT_FALSE(text.empty()) << section.file;
    const std::string regenerated = replace_generated(text, section.name, section.generate());
    ASSERT_FALSE(regenerated.empty()) << section.file << " lacks the markers of " << section.name;
    EXPECT_TRUE(regenerated == text) << section.file << ": the " << section.name
                                     << " table differs from the parameter table; run `make docs`";
  }
}

}  // namespace
}  // namespace longhaul::link
