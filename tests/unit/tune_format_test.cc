// Output contracts of the tuner: the JSON schema (keys and types are a stable interface), the
// sysctl snippet, macOS output, the state file, and the small parsers they rely on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "tune/format.hh"
#include "tune/saved_state.hh"

namespace longhaul::tune {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

HostSettings host() {
  HostSettings s;
  s.kernel = *KernelVersion::parse("6.18.44-fc-v769");
  s.sysctls = {
      {"net.core.rmem_max", "212992"},
      {"net.core.wmem_max", "212992"},
      {"net.core.default_qdisc", "fq_codel"},
      {"net.ipv4.tcp_rmem", "4096\t131072\t6291456"},
      {"net.ipv4.tcp_wmem", "4096\t16384\t4194304"},
      {"net.ipv4.tcp_congestion_control", "cubic"},
      {"net.ipv4.tcp_mtu_probing", "0"},
      {"net.ipv4.ip_local_port_range", "32768\t60999"},
      {"net.ipv4.tcp_tw_reuse", "2"},
      {"net.ipv4.conf.all.rp_filter", "0"},
  };
  s.link = LinkSettings{"eth0", 1500, 1000, "fq_codel"};
  RouteSettings route;
  route.description = "default via 192.0.2.1 dev eth0";
  route.ip_arguments = "default via 192.0.2.1 dev eth0 proto dhcp metric 100 mtu lock 1400";
  route.dev = "eth0";
  s.route = route;
  return s;
}

TuneRequest tokyo() {
  TuneRequest r;
  r.rate_bps = 10'000'000'000ULL;
  r.rtt = milliseconds(346);
  r.streams = 4;
  return r;
}

std::set<std::string> keys(const json& object) {
  std::set<std::string> out;
  for (const auto& item : object.items()) out.insert(item.key());
  return out;
}

TEST(TuneJson, TopLevelSchemaIsStable) {
  Output output;
  output.request = tokyo();
  output.report = make_report(output.request, host());
  const json document = json::parse(format_json(output));
  EXPECT_EQ(document.at("schema"), "longhaul.tune/1");
  EXPECT_EQ(keys(document),
            (std::set<std::string>{"schema", "request", "kernel", "path", "link", "route",
                                   "recommendations", "notes", "apply", "revert", "error"}));
  EXPECT_EQ(keys(document.at("request")),
            (std::set<std::string>{"rate_bps", "rtt_ns", "streams", "os", "target", "netns", "peer",
                                   "loss", "churn_per_s"}));
  EXPECT_EQ(
      keys(document.at("path")),
      (std::set<std::string>{"bdp_bytes", "window_per_stream_bytes", "buffer_per_window",
                             "buffer_needed_bytes", "buffer_tier_bytes", "mss_bytes", "initcwnd",
                             "slow_start", "mathis_bps_per_stream", "streams_to_fill"}));
  EXPECT_EQ(keys(document.at("path").at("slow_start")),
            (std::set<std::string>{"rounds", "time_ns", "bytes_sent"}));
  EXPECT_EQ(keys(document.at("kernel")),
            (std::set<std::string>{"release", "major", "minor", "patch"}));
  EXPECT_EQ(keys(document.at("route")),
            (std::set<std::string>{"description", "ip_arguments", "dev", "initcwnd", "initrwnd",
                                   "unsupported"}));
  EXPECT_EQ(document.at("request").at("rate_bps"), 10'000'000'000ULL);
  EXPECT_EQ(document.at("request").at("rtt_ns"), 346'000'000);
  EXPECT_EQ(document.at("request").at("target"), "host");
  EXPECT_TRUE(document.at("request").at("loss").is_null());
  EXPECT_DOUBLE_EQ(document.at("path").at("bdp_bytes").get<double>(), 432'500'000.0);
  EXPECT_TRUE(document.at("apply").is_null());
  EXPECT_TRUE(document.at("error").is_null());
}

TEST(TuneJson, RecommendationRowsHaveFixedKeysAndTypes) {
  Output output;
  output.request = tokyo();
  output.request.churn_per_s = 2000;
  output.report = make_report(output.request, host());
  const json document = json::parse(format_json(output));
  ASSERT_FALSE(document.at("recommendations").empty());
  const std::set<std::string> scopes{"global", "netns", "interface", "route"};
  const std::set<std::string> actions{"keep", "set", "advise"};
  for (const auto& row : document.at("recommendations")) {
    EXPECT_EQ(keys(row), (std::set<std::string>{"setting", "object", "scope", "action", "current",
                                                "recommended", "why", "allows"}));
    EXPECT_TRUE(row.at("setting").is_string());
    EXPECT_TRUE(row.at("object").is_null() || row.at("object").is_string());
    EXPECT_TRUE(scopes.contains(row.at("scope").get<std::string>()));
    EXPECT_TRUE(actions.contains(row.at("action").get<std::string>()));
    EXPECT_TRUE(row.at("current").is_null() || row.at("current").is_string());
    EXPECT_TRUE(row.at("recommended").is_string());
    EXPECT_TRUE(row.at("why").is_string());
    if (!row.at("allows").is_null()) {
      EXPECT_EQ(keys(row.at("allows")), (std::set<std::string>{"unit", "current", "recommended"}));
    }
  }
  const auto rmem =
      std::find_if(document.at("recommendations").begin(), document.at("recommendations").end(),
                   [](const json& row) { return row.at("setting") == "net.ipv4.tcp_rmem"; });
  ASSERT_NE(rmem, document.at("recommendations").end());
  EXPECT_EQ(rmem->at("current"), "4096 131072 6291456");
  EXPECT_EQ(rmem->at("recommended"), "4096 131072 268435456");
  EXPECT_EQ(rmem->at("allows").at("unit"), "bit/s");
}

TEST(TuneJson, ErrorsStayInsideParsableJson) {
  Output output;
  output.request = tokyo();
  output.error = "setns(CLONE_NEWNET) fd 3: Operation not permitted";
  const json document = json::parse(format_json(output));
  EXPECT_EQ(document.at("error"), output.error);
  EXPECT_TRUE(document.at("path").is_null());
  EXPECT_TRUE(document.at("recommendations").empty());
}

TEST(TuneJson, ApplyAndRevertSections) {
  Output output;
  output.request = tokyo();
  ApplyResult apply;
  SavedChange change;
  change.setting = "net.ipv4.tcp_rmem";
  change.key = "net/ipv4/tcp_rmem";
  change.previous = "4096\t131072\t6291456";
  change.applied = "4096 131072 268435456";
  apply.changed.push_back(change);
  apply.refused.push_back({"net.core.rmem_max", "", "host-global"});
  apply.state_path = "/run/longhaul/tune/netns-x.json";
  output.apply = apply;
  const json document = json::parse(format_json(output));
  EXPECT_EQ(keys(document.at("apply")),
            (std::set<std::string>{"state_file", "changed", "refused"}));
  EXPECT_EQ(keys(document.at("apply").at("changed").at(0)),
            (std::set<std::string>{"kind", "setting", "object", "previous", "applied"}));
  EXPECT_EQ(document.at("apply").at("refused").at(0).at("reason"), "host-global");
}

TEST(TuneSysctlFormat, SnippetAndRouteCommand) {
  TuneRequest r = tokyo();
  const std::string text = format_sysctl(make_report(r, host()));
  EXPECT_THAT(text, HasSubstr("\nnet.ipv4.tcp_rmem = 4096 131072 268435456\n"));
  EXPECT_THAT(text, HasSubstr("\nnet.core.rmem_max = 536870912\n"));
  EXPECT_THAT(text, HasSubstr("[host-global]"));
  // The route keeps its other attributes (a replace would drop them) and gains the windows.
  EXPECT_THAT(text, HasSubstr("#   ip route change default via 192.0.2.1 dev eth0 proto dhcp "
                              "metric 100 mtu lock 1400 initcwnd 20 initrwnd 20\n"));
  EXPECT_THAT(text, HasSubstr("#   ip link set dev eth0 txqueuelen 10000\n"));
  EXPECT_THAT(text, Not(HasSubstr("tcp_tw_recycle")));
  // Every non-comment line is NAME = VALUE: the whole output is a valid sysctl.conf.
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.starts_with("#")) continue;
    EXPECT_THAT(line, ::testing::MatchesRegex("[a-z0-9_./]+ = [-0-9a-z_ ]+")) << line;
  }
}

TEST(TuneMacos, EquivalentsWithoutReadingAnything) {
  TuneRequest r = tokyo();
  r.os = Os::macos_os;
  r.churn_per_s = 1000;
  const Report report = make_report(r, std::nullopt);
  const std::string text = format_sysctl(report);
  EXPECT_THAT(text, HasSubstr("\nkern.ipc.maxsockbuf="));
  EXPECT_THAT(text, HasSubstr("\nnet.inet.tcp.autorcvbufmax=134217728\n"));  // 108 MB -> 128 MiB
  EXPECT_THAT(text, HasSubstr("\nnet.inet.ip.portrange.first=16384\n"));
  EXPECT_THAT(text, HasSubstr("networksetup -setMTU"));
  EXPECT_THAT(text, Not(HasSubstr("net.ipv4")));
  for (const auto& row : report.rows) EXPECT_FALSE(row.current) << row.setting;
  const json document = json::parse(format_json(Output{r, report, {}, {}, {}}));
  EXPECT_EQ(document.at("request").at("os"), "macos");
  EXPECT_TRUE(document.at("kernel").is_null());
  EXPECT_THAT(format_table(report), HasSubstr("macOS"));
}

TEST(TuneTable, ActionsUseTheWordsOfTheJsonAndTheDocs) {
  const Report report = make_report(tokyo(), host());
  const std::string text = format_table(report);
  std::set<std::string> expected;
  for (const auto& row : report.rows) expected.insert(std::string(to_string(row.action)));
  EXPECT_EQ(expected, (std::set<std::string>{"keep", "set", "advise"}));
  for (const auto& word : expected) {
    EXPECT_TRUE(std::regex_search(text, std::regex("  " + word + "  "))) << word << "\n" << text;
  }
  for (const char* old_word : {"  ok  ", "  SET  ", "  advice  "}) {
    EXPECT_THAT(text, Not(HasSubstr(old_word)));
  }
}

TEST(TuneTable, HeaderFiguresAndRows) {
  const std::string text = format_table(make_report(tokyo(), host()));
  EXPECT_THAT(text, HasSubstr("10 Gbit/s x 346 ms round trip, 4 streams"));
  EXPECT_THAT(text, HasSubstr("bandwidth-delay product 433 MB"));
  EXPECT_THAT(text, HasSubstr("SETTING"));
  EXPECT_THAT(text, HasSubstr("initcwnd (route)"));
  EXPECT_THAT(text, HasSubstr("txqueuelen (eth0)"));
}

TEST(TuneState, RoundTripsThroughJson) {
  SavedState state;
  state.target = TargetKind::netns;
  state.netns = "lab1";
  state.netns_dev = 4;
  state.netns_inode = 4026532000;
  state.kernel = "6.18.44";
  state.created = "2024-01-01T00:00:00Z";
  SavedChange sysctl;
  sysctl.setting = "net.ipv4.tcp_rmem";
  sysctl.key = "net/ipv4/tcp_rmem";
  sysctl.previous = "4096\t131072\t6291456";
  sysctl.applied = "4096 131072 268435456";
  SavedChange route;
  route.kind = SavedChange::Kind::route;
  route.setting = "initcwnd";
  route.object = "route default via 198.18.0.1 dev eth0";
  route.route = RouteKey{2, 254, "default", "", 0, 0};
  route.applied = "20";  // previous: unset (kernel default)
  state.changes = {sysctl, route};
  const SavedState back = state_from_json(state_to_json(state));
  EXPECT_EQ(back.target, TargetKind::netns);
  EXPECT_EQ(back.netns, "lab1");
  EXPECT_EQ(back.netns_inode, 4026532000U);
  ASSERT_EQ(back.changes.size(), 2U);
  EXPECT_EQ(back.changes[0].previous, "4096\t131072\t6291456");  // exact, tabs kept
  EXPECT_EQ(back.changes[1].kind, SavedChange::Kind::route);
  EXPECT_FALSE(back.changes[1].previous);
  EXPECT_EQ(back.changes[1].route, state.changes[1].route);
  EXPECT_THROW(state_from_json("{\"schema\": \"other/1\"}"), std::runtime_error);
  EXPECT_THROW(state_from_json("not json"), std::runtime_error);
}

TEST(TuneState, MergeKeepsTheFirstPreviousValue) {
  SavedState state;
  SavedChange first;
  first.setting = "net.ipv4.tcp_rmem";
  first.key = "net/ipv4/tcp_rmem";
  first.previous = "original";
  first.applied = "one";
  merge_changes(state, {first});
  SavedChange second = first;
  second.previous = "one";  // what the second apply found: longhaul's own value
  second.applied = "two";
  SavedChange other;
  other.setting = "net.ipv4.tcp_mtu_probing";
  other.key = "net/ipv4/tcp_mtu_probing";
  other.previous = "0";
  other.applied = "1";
  merge_changes(state, {second, other});
  ASSERT_EQ(state.changes.size(), 2U);
  EXPECT_EQ(state.changes[0].previous, "original");
  EXPECT_EQ(state.changes[0].applied, "two");
  EXPECT_EQ(state.changes[1].setting, "net.ipv4.tcp_mtu_probing");
  EXPECT_EQ(state_file_name(TargetKind::host, ""), "host.json");
  EXPECT_EQ(state_file_name(TargetKind::netns, "lh-r1-cmd"), "netns-lh-r1-cmd.json");
}

TEST(TuneSettings, KernelVersionsAndNames) {
  const auto v = KernelVersion::parse("6.18.44-fc-v769");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 6U);
  EXPECT_EQ(v->minor, 18U);
  EXPECT_EQ(v->patch, 44U);
  EXPECT_TRUE(v->at_least(6, 6));
  EXPECT_TRUE(v->at_least(4, 12));
  EXPECT_FALSE(v->at_least(7, 0));
  EXPECT_TRUE(KernelVersion::parse("4.9")->at_least(4, 9));
  EXPECT_FALSE(KernelVersion::parse("4.9")->at_least(4, 10));
  EXPECT_FALSE(KernelVersion::parse("garbage"));
  EXPECT_FALSE(KernelVersion::parse("6"));
  EXPECT_EQ(sysctl_relative_path("net.ipv4.tcp_rmem"), "net/ipv4/tcp_rmem");
  EXPECT_EQ(sysctl_relative_path("net.ipv4.conf.eth0/100.rp_filter"),
            "net/ipv4/conf/eth0.100/rp_filter");
  EXPECT_EQ(sysctl_name("net/ipv4/conf/eth0.100/rp_filter"), "net.ipv4.conf.eth0/100.rp_filter");
  EXPECT_EQ(normalize_value("4096\t131072\t6291456\n"), "4096 131072 6291456");
  EXPECT_EQ(normalize_value("  bbr "), "bbr");
  HostSettings s;
  s.sysctls = {{"a", "1\t2\t3"}, {"b", "x"}, {"c", "7"}};
  EXPECT_EQ(s.integers("a"), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_FALSE(s.integers("b"));
  EXPECT_FALSE(s.integer("a"));
  EXPECT_EQ(s.integer("c"), 7);
  EXPECT_FALSE(s.integer("missing"));
}

}  // namespace
}  // namespace longhaul::tune
