// The tuning rules on hand-built host settings: sizing by rate x RTT, never lowering, kernel
// versions, scopes, and the settings that must never be recommended.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "tune/recommend.hh"

namespace longhaul::tune {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr std::uint64_t kGbit = 1'000'000'000ULL;

// A stock Debian 12-like host on a given kernel: defaults everywhere.
HostSettings stock_host(const char* release = "6.18.44-fc-v769") {
  HostSettings s;
  s.kernel = *KernelVersion::parse(release);
  s.sysctls = {
      {"net.core.rmem_max", "212992"},
      {"net.core.wmem_max", "212992"},
      {"net.core.default_qdisc", "fq_codel"},
      {"net.ipv4.tcp_rmem", "4096\t131072\t6291456"},
      {"net.ipv4.tcp_wmem", "4096\t16384\t4194304"},
      {"net.ipv4.tcp_mem", "92160\t122880\t184320"},
      {"net.ipv4.tcp_adv_win_scale", "1"},
      {"net.ipv4.tcp_congestion_control", "cubic"},
      {"net.ipv4.tcp_available_congestion_control", "reno cubic"},
      {"net.ipv4.tcp_allowed_congestion_control", "reno cubic"},
      {"net.ipv4.tcp_mtu_probing", "0"},
      {"net.ipv4.tcp_slow_start_after_idle", "1"},
      {"net.ipv4.tcp_window_scaling", "1"},
      {"net.ipv4.tcp_sack", "1"},
      {"net.ipv4.tcp_timestamps", "1"},
      {"net.ipv4.tcp_tw_reuse", "2"},
      {"net.ipv4.ip_local_port_range", "32768\t60999"},
      {"net.netfilter.nf_conntrack_max", "262144"},
      {"net.netfilter.nf_conntrack_buckets", "262144"},
      {"net.netfilter.nf_conntrack_tcp_timeout_time_wait", "120"},
      {"net.ipv4.conf.all.rp_filter", "0"},
      {"net.ipv4.conf.eth0.rp_filter", "0"},
  };
  s.link = LinkSettings{"eth0", 1500, 1000, "fq_codel"};
  RouteSettings route;
  route.description = "default via 192.0.2.1 dev eth0";
  route.ip_arguments = "default via 192.0.2.1 dev eth0 proto static";
  route.dev = "eth0";
  s.route = route;
  return s;
}

TuneRequest path(std::uint64_t rate_bps, core::Nanos rtt, unsigned streams = 1) {
  TuneRequest r;
  r.rate_bps = rate_bps;
  r.rtt = rtt;
  r.streams = streams;
  return r;
}

const Recommendation& row(const std::vector<Recommendation>& rows, const std::string& setting) {
  const auto it = std::find_if(rows.begin(), rows.end(),
                               [&](const Recommendation& r) { return r.setting == setting; });
  if (it == rows.end()) throw std::runtime_error("no row " + setting);
  return *it;
}

bool has_row(const std::vector<Recommendation>& rows, const std::string& setting) {
  return std::any_of(rows.begin(), rows.end(),
                     [&](const Recommendation& r) { return r.setting == setting; });
}

TEST(TuneRecommend, SizesBuffersByRateTimesRtt) {
  // 1 Gbit/s x 54 ms = 6.75 MB; x2 kernel overhead = 13.5 MB -> the 16 MiB tier.
  const auto rows = recommend(stock_host(), path(kGbit, milliseconds(54)));
  const auto& rmem = row(rows, "net.ipv4.tcp_rmem");
  EXPECT_EQ(rmem.action, Action::set);
  EXPECT_EQ(rmem.current, "4096 131072 6291456");
  EXPECT_EQ(rmem.recommended, "4096 131072 16777216");  // min and initial untouched
  EXPECT_EQ(rmem.scope, Scope::netns);
  ASSERT_TRUE(rmem.allows);
  EXPECT_EQ(rmem.allows->unit, "bit/s");
  // 6 MiB buffer -> 3 MiB window / 54 ms = 466 Mbit/s; after: capped at the link's 1 Gbit/s.
  EXPECT_NEAR(*rmem.allows->current, 3145728.0 * 8 / 0.054, 1);
  EXPECT_DOUBLE_EQ(*rmem.allows->recommended, 1e9);
  EXPECT_EQ(row(rows, "net.ipv4.tcp_wmem").recommended, "4096 16384 16777216");
}

TEST(TuneRecommend, TokyoTiersDependOnStreams) {
  // One stream: 432.5 MB window, 865 MB buffer -> 1 GiB tier.
  auto rows = recommend(stock_host(), path(10 * kGbit, milliseconds(346)));
  EXPECT_EQ(row(rows, "net.ipv4.tcp_rmem").recommended, "4096 131072 1073741824");
  // Four streams: 108 MB each, 216 MB buffer -> 256 MiB.
  rows = recommend(stock_host(), path(10 * kGbit, milliseconds(346), 4));
  EXPECT_EQ(row(rows, "net.ipv4.tcp_rmem").recommended, "4096 131072 268435456");
  EXPECT_EQ(row(rows, "net.ipv4.tcp_wmem").recommended, "4096 16384 268435456");
  // ESnet's pattern: net.core maxima at twice the TCP maximum.
  EXPECT_EQ(row(rows, "net.core.rmem_max").recommended, "536870912");
  EXPECT_EQ(row(rows, "net.core.rmem_max").scope, Scope::global);
}

TEST(TuneRecommend, NeverLowersALimitAlreadyHigher) {
  HostSettings s = stock_host();
  s.sysctls["net.ipv4.tcp_rmem"] = "4096\t8388608\t2147483647";
  s.sysctls["net.core.rmem_max"] = "2147483647";
  s.sysctls["net.ipv4.ip_local_port_range"] = "1024\t65535";
  TuneRequest r = path(kGbit, milliseconds(54));
  r.churn_per_s = 900;  // 64512 ports / 60 s = 1075/s: enough
  const auto rows = recommend(s, r);
  for (const char* name :
       {"net.ipv4.tcp_rmem", "net.core.rmem_max", "net.ipv4.ip_local_port_range"}) {
    EXPECT_EQ(row(rows, name).action, Action::keep) << name;
    EXPECT_EQ(row(rows, name).recommended, row(rows, name).current) << name;
  }
  // A maximum that is enough but below the tier is enough: keep it.
  s.sysctls["net.ipv4.tcp_rmem"] = "4096\t131072\t14000000";
  EXPECT_EQ(row(recommend(s, r), "net.ipv4.tcp_rmem").action, Action::keep);
  // A larger initial value survives a raised maximum.
  s.sysctls["net.ipv4.tcp_rmem"] = "8192\t8388608\t10000000";
  EXPECT_EQ(row(recommend(s, r), "net.ipv4.tcp_rmem").recommended, "8192 8388608 16777216");
}

TEST(TuneRecommend, KernelBefore66UsesAdvWinScale) {
  HostSettings s = stock_host("5.15.0-91-generic");
  s.sysctls["net.ipv4.tcp_adv_win_scale"] = "2";  // window = 3/4 of the buffer
  EXPECT_DOUBLE_EQ(buffer_per_window(s), 4.0 / 3.0);
  s.sysctls["net.ipv4.tcp_adv_win_scale"] = "1";
  EXPECT_DOUBLE_EQ(buffer_per_window(s), 2.0);
  s.sysctls["net.ipv4.tcp_adv_win_scale"] = "-2";
  EXPECT_DOUBLE_EQ(buffer_per_window(s), 4.0);
  // 6.6 and later ignore the sysctl.
  HostSettings modern = stock_host("6.6.0");
  modern.sysctls["net.ipv4.tcp_adv_win_scale"] = "2";
  EXPECT_DOUBLE_EQ(buffer_per_window(modern), 2.0);
  // 5.15 with adv_win_scale 2: 6.75 MB x 4/3 = 9 MB, which a 16 MiB tier covers...
  s.sysctls["net.ipv4.tcp_adv_win_scale"] = "2";
  s.sysctls["net.ipv4.tcp_rmem"] = "4096\t131072\t10000000";
  // ...and a 10 MB maximum already holds: keep (on 6.18 the same host needs 13.5 MB).
  EXPECT_EQ(row(recommend(s, path(kGbit, milliseconds(54))), "net.ipv4.tcp_rmem").action,
            Action::keep);
  HostSettings newer = stock_host();
  newer.sysctls["net.ipv4.tcp_rmem"] = "4096\t131072\t10000000";
  EXPECT_EQ(row(recommend(newer, path(kGbit, milliseconds(54))), "net.ipv4.tcp_rmem").action,
            Action::set);
}

TEST(TuneRecommend, TwRecycleOnlyEverSwitchedOff) {
  HostSettings old = stock_host("4.9.0");
  old.sysctls["net.ipv4.tcp_tw_recycle"] = "1";
  const auto rows = recommend(old, path(kGbit, milliseconds(80)));
  EXPECT_EQ(row(rows, "net.ipv4.tcp_tw_recycle").action, Action::set);
  EXPECT_EQ(row(rows, "net.ipv4.tcp_tw_recycle").recommended, "0");
  EXPECT_THAT(row(rows, "net.ipv4.tcp_tw_recycle").why, HasSubstr("4.12"));
  // Removed in 4.12: no row at all on a newer kernel.
  EXPECT_FALSE(
      has_row(recommend(stock_host(), path(kGbit, milliseconds(80))), "net.ipv4.tcp_tw_recycle"));
}

TEST(TuneRecommend, TurnsBackOnWhatMustStayOn) {
  HostSettings s = stock_host();
  s.sysctls["net.ipv4.tcp_sack"] = "0";
  s.sysctls["net.ipv4.tcp_timestamps"] = "0";
  s.sysctls["net.ipv4.tcp_window_scaling"] = "0";
  const auto rows = recommend(s, path(kGbit, milliseconds(80)));
  for (const char* name :
       {"net.ipv4.tcp_sack", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_window_scaling"}) {
    EXPECT_EQ(row(rows, name).action, Action::set) << name;
    EXPECT_EQ(row(rows, name).recommended, "1") << name;
  }
  // Without window scaling every window is 64 KiB: 6.55 Mbit/s at 80 ms.
  EXPECT_NEAR(*row(rows, "net.ipv4.tcp_window_scaling").allows->current, 6'553'500, 1);
  // Shown only when off.
  EXPECT_FALSE(
      has_row(recommend(stock_host(), path(kGbit, milliseconds(80))), "net.ipv4.tcp_sack"));
}

// Whatever the host and path, nothing harmful or removed is ever recommended.
TEST(TuneRecommend, NeverRecommendsHarmfulSettings) {
  std::vector<HostSettings> hosts;
  for (const char* release : {"3.10.0", "4.4.0", "4.9.0", "4.14.0", "5.4.0", "6.1.0", "6.18.44"}) {
    HostSettings s = stock_host(release);
    hosts.push_back(s);
    s.sysctls["net.ipv4.tcp_tw_recycle"] = "0";
    s.sysctls["net.ipv4.tcp_sack"] = "0";
    s.sysctls["net.ipv4.tcp_timestamps"] = "0";
    s.sysctls["net.ipv4.tcp_mem"] = "10\t20\t30";
    hosts.push_back(s);
  }
  for (const auto& host : hosts) {
    for (const auto& request :
         {path(kGbit, microseconds(140)), path(10 * kGbit, milliseconds(346), 8),
          path(100 * kGbit, milliseconds(80))}) {
      for (const auto& r : recommend(host, request)) {
        const std::string where = host.kernel.release + " " + r.setting;
        if (r.setting == "net.ipv4.tcp_tw_recycle") {
          EXPECT_EQ(r.recommended, "0") << where;
        }
        if (r.setting == "net.ipv4.tcp_sack" || r.setting == "net.ipv4.tcp_timestamps" ||
            r.setting == "net.ipv4.tcp_window_scaling") {
          EXPECT_EQ(r.recommended, "1") << where;
        }
        // tcp_mem is in pages and RAM-dependent: advice at most, never applied.
        if (r.setting == "net.ipv4.tcp_mem") {
          EXPECT_NE(r.action, Action::set) << where;
        }
        if (r.setting == "net.ipv4.tcp_congestion_control" && !host.kernel.at_least(4, 9)) {
          EXPECT_NE(r.recommended, "bbr") << where;
        }
      }
    }
  }
}

TEST(TuneRecommend, TcpMemAdviceIsInPages) {
  HostSettings s = stock_host();
  s.page_size = 4096;
  s.sysctls["net.ipv4.tcp_mem"] = "1000\t2000\t3000";  // 8 MB of pressure threshold
  const auto rows = recommend(s, path(10 * kGbit, milliseconds(346), 4));
  const auto& mem = row(rows, "net.ipv4.tcp_mem");
  EXPECT_EQ(mem.action, Action::advise);
  EXPECT_EQ(mem.scope, Scope::global);
  EXPECT_THAT(mem.why, HasSubstr("pages"));
  // 4 streams x 216.25 MB = 865 MB = 211182 pages of 4 KiB (rounded up).
  EXPECT_EQ(mem.recommended, "1000 211182 316773");
}

TEST(TuneRecommend, CongestionControlByKernelAndPath) {
  HostSettings s = stock_host();
  // Long path, BBR available or loadable on the host: set it.
  auto cc = row(recommend(s, path(kGbit, milliseconds(80))), "net.ipv4.tcp_congestion_control");
  EXPECT_EQ(cc.action, Action::set);
  EXPECT_EQ(cc.recommended, "bbr");
  // A LAN: CUBIC is fine.
  cc = row(recommend(s, path(kGbit, microseconds(140))), "net.ipv4.tcp_congestion_control");
  EXPECT_EQ(cc.action, Action::keep);
  // Inside a namespace only the allowed list can be chosen.
  HostSettings ns = s;
  ns.read_in_netns = true;
  ns.netns_writable = {"net.ipv4.tcp_congestion_control"};
  TuneRequest in_ns = path(kGbit, milliseconds(80));
  in_ns.target = TargetKind::netns;
  cc = row(recommend(ns, in_ns), "net.ipv4.tcp_congestion_control");
  EXPECT_EQ(cc.action, Action::advise);
  EXPECT_THAT(cc.why, HasSubstr("tcp_allowed_congestion_control"));
  ns.sysctls["net.ipv4.tcp_allowed_congestion_control"] = "reno cubic bbr";
  EXPECT_EQ(row(recommend(ns, in_ns), "net.ipv4.tcp_congestion_control").action, Action::set);
  // Before 4.9 there is no BBR.
  cc = row(recommend(stock_host("4.4.0"), path(kGbit, milliseconds(80))),
           "net.ipv4.tcp_congestion_control");
  EXPECT_EQ(cc.recommended, "htcp");
  EXPECT_EQ(cc.action, Action::advise);
  // Already BBR: keep.
  s.sysctls["net.ipv4.tcp_congestion_control"] = "bbr";
  EXPECT_EQ(
      row(recommend(s, path(kGbit, milliseconds(80))), "net.ipv4.tcp_congestion_control").action,
      Action::keep);
}

TEST(TuneRecommend, LossGivesMathisAllowances) {
  TuneRequest r = path(kGbit, milliseconds(80));
  r.loss = 0.001;
  const auto rows = recommend(stock_host(), r);
  const auto& cc = row(rows, "net.ipv4.tcp_congestion_control");
  ASSERT_TRUE(cc.allows);
  // CUBIC (loss-based) at 0.1 %: Mathis with MSS 1448; BBR: the link rate.
  EXPECT_NEAR(*cc.allows->current, 1448 * 8 / 0.08 * std::sqrt(1.5) / std::sqrt(0.001), 1);
  EXPECT_DOUBLE_EQ(*cc.allows->recommended, 1e9);
}

TEST(TuneRecommend, FqRequiredForBbrBefore413) {
  const auto rows = recommend(stock_host("4.10.0"), path(kGbit, milliseconds(80)));
  const auto& qdisc = row(rows, "net.core.default_qdisc");
  EXPECT_EQ(qdisc.action, Action::set);
  EXPECT_EQ(qdisc.recommended, "fq");
  EXPECT_THAT(qdisc.why, HasSubstr("4.13"));
  EXPECT_EQ(qdisc.scope, Scope::global);
}

TEST(TuneRecommend, ScopesFollowTheKernel) {
  HostSettings s = stock_host();
  EXPECT_EQ(sysctl_scope("net.core.rmem_max", s), Scope::global);
  EXPECT_EQ(sysctl_scope("net.core.default_qdisc", s), Scope::global);
  EXPECT_EQ(sysctl_scope("net.ipv4.tcp_mem", s), Scope::global);
  EXPECT_EQ(sysctl_scope("net.netfilter.nf_conntrack_buckets", s), Scope::global);
  EXPECT_EQ(sysctl_scope("net.netfilter.nf_conntrack_max", s), Scope::global);
  EXPECT_EQ(sysctl_scope("net.ipv4.tcp_rmem", s), Scope::netns);
  EXPECT_EQ(sysctl_scope("net.ipv4.ip_local_port_range", s), Scope::netns);
  // Read inside a namespace: what it shows read-only is the host's.
  s.read_in_netns = true;
  s.netns_writable = {"net.ipv4.tcp_wmem", "net.netfilter.nf_conntrack_max"};
  EXPECT_EQ(sysctl_scope("net.ipv4.tcp_rmem", s), Scope::global);
  EXPECT_EQ(sysctl_scope("net.ipv4.tcp_wmem", s), Scope::netns);
  // A writable conntrack max inside a namespace was one global variable on older kernels.
  EXPECT_EQ(sysctl_scope("net.netfilter.nf_conntrack_max", s), Scope::global);
}

TEST(TuneRecommend, RefusesHostGlobalSettingsForANamespace) {
  Recommendation global;
  global.setting = "net.core.rmem_max";
  global.scope = Scope::global;
  EXPECT_THAT(refusal_reason(global, TargetKind::netns), HasSubstr("host-global"));
  EXPECT_EQ(refusal_reason(global, TargetKind::host), "");
  Recommendation local;
  local.setting = "net.ipv4.tcp_rmem";
  local.scope = Scope::netns;
  EXPECT_EQ(refusal_reason(local, TargetKind::netns), "");
  Recommendation mtu;
  mtu.setting = "mtu";
  mtu.scope = Scope::interface;
  EXPECT_NE(refusal_reason(mtu, TargetKind::host), "");
}

TEST(TuneRecommend, InitialWindowsOnLongRoutes) {
  auto rows = recommend(stock_host(), path(10 * kGbit, milliseconds(346)));
  const auto& cwnd = row(rows, "initcwnd");
  EXPECT_EQ(cwnd.scope, Scope::route);
  EXPECT_EQ(cwnd.action, Action::set);
  EXPECT_EQ(cwnd.recommended, "20");
  EXPECT_EQ(cwnd.current, "default (10)");
  EXPECT_THAT(cwnd.why, HasSubstr("15 -> 14 round trips"));
  EXPECT_EQ(row(rows, "initrwnd").recommended, "20");
  EXPECT_EQ(row(rows, "initrwnd").action, Action::set);
  // A short path: nothing to gain.
  rows = recommend(stock_host(), path(10 * kGbit, milliseconds(1)));
  EXPECT_EQ(row(rows, "initcwnd").action, Action::keep);
  // Already higher: never lowered.
  HostSettings s = stock_host();
  s.route->initcwnd = 40;
  s.route->initrwnd = 40;
  rows = recommend(s, path(10 * kGbit, milliseconds(346)));
  EXPECT_EQ(row(rows, "initcwnd").action, Action::keep);
  EXPECT_EQ(row(rows, "initrwnd").action, Action::keep);
  // A route longhaul cannot replace exactly: advice only.
  s = stock_host();
  s.route->unsupported = "multipath route";
  EXPECT_EQ(row(recommend(s, path(10 * kGbit, milliseconds(346))), "initcwnd").action,
            Action::advise);
}

TEST(TuneRecommend, TxqueuelenAndMtuAtTenGigabit) {
  auto rows = recommend(stock_host(), path(10 * kGbit, milliseconds(80)));
  EXPECT_EQ(row(rows, "txqueuelen").action, Action::set);
  EXPECT_EQ(row(rows, "txqueuelen").recommended, "10000");
  EXPECT_EQ(row(rows, "txqueuelen").object, "dev eth0");
  EXPECT_EQ(row(rows, "mtu").action, Action::advise);  // jumbo frames need the whole path
  rows = recommend(stock_host(), path(kGbit, milliseconds(80)));
  EXPECT_EQ(row(rows, "txqueuelen").action, Action::keep);
  EXPECT_EQ(row(rows, "mtu").action, Action::keep);
  HostSettings veth = stock_host();
  veth.link->qdisc = "noqueue";
  EXPECT_EQ(row(recommend(veth, path(10 * kGbit, milliseconds(80))), "txqueuelen").action,
            Action::keep);
}

TEST(TuneRecommend, EphemeralPortsAndTimeWaitForChurn) {
  TuneRequest r = path(kGbit, milliseconds(80));
  // No churn given: report what the range allows (28232 ports / 60 s = 470/s), change nothing.
  auto rows = recommend(stock_host(), r);
  const auto& range = row(rows, "net.ipv4.ip_local_port_range");
  EXPECT_EQ(range.action, Action::keep);
  EXPECT_EQ(range.allows->unit, "connections/s");
  EXPECT_NEAR(*range.allows->current, 28232.0 / 60, 1e-9);
  EXPECT_EQ(row(rows, "net.ipv4.tcp_tw_reuse").action, Action::keep);
  // 600/s: a wider range (49152 / 60 = 819/s) is enough.
  r.churn_per_s = 600;
  rows = recommend(stock_host(), r);
  EXPECT_EQ(row(rows, "net.ipv4.ip_local_port_range").recommended, "16384 65535");
  EXPECT_EQ(row(rows, "net.ipv4.tcp_tw_reuse").action, Action::keep);
  // 2000/s: also reuse TIME_WAIT ports for outgoing connections.
  r.churn_per_s = 2000;
  rows = recommend(stock_host(), r);
  EXPECT_EQ(row(rows, "net.ipv4.ip_local_port_range").action, Action::set);
  EXPECT_EQ(row(rows, "net.ipv4.tcp_tw_reuse").action, Action::set);
  EXPECT_EQ(row(rows, "net.ipv4.tcp_tw_reuse").recommended, "1");
  EXPECT_NEAR(*row(rows, "net.ipv4.tcp_tw_reuse").allows->recommended, 49152.0, 1e-9);
  // The rows chain: the range alone takes 470/s to 819/s, and reuse starts from those 819/s.
  const auto& widened = *row(rows, "net.ipv4.ip_local_port_range").allows;
  const auto& reused = *row(rows, "net.ipv4.tcp_tw_reuse").allows;
  EXPECT_NEAR(*widened.current, 28232.0 / 60, 1e-9);
  EXPECT_NEAR(*widened.recommended, 49152.0 / 60, 1e-9);
  EXPECT_NEAR(*reused.current, *widened.recommended, 1e-9);
}

TEST(TuneRecommend, ConntrackSizedForChurn) {
  TuneRequest r = path(kGbit, milliseconds(80));
  r.churn_per_s = 5000;  // x 120 s TIME_WAIT tracking = 600 000 entries > 262 144
  auto rows = recommend(stock_host(), r);
  EXPECT_EQ(row(rows, "net.netfilter.nf_conntrack_max").action, Action::set);
  EXPECT_EQ(row(rows, "net.netfilter.nf_conntrack_max").recommended, "2097152");
  EXPECT_EQ(row(rows, "net.netfilter.nf_conntrack_buckets").recommended, "2097152");
  EXPECT_EQ(row(rows, "net.netfilter.nf_conntrack_max").scope, Scope::global);
  // Conntrack not loaded: nothing to size.
  HostSettings s = stock_host();
  s.sysctls.erase("net.netfilter.nf_conntrack_max");
  s.sysctls.erase("net.netfilter.nf_conntrack_buckets");
  rows = recommend(s, r);
  EXPECT_EQ(row(rows, "net.netfilter.nf_conntrack_max").action, Action::keep);
  EXPECT_FALSE(row(rows, "net.netfilter.nf_conntrack_max").current);
}

TEST(TuneRecommend, StrictRpFilterLoosenedInLabsOnly) {
  HostSettings s = stock_host();
  s.sysctls["net.ipv4.conf.all.rp_filter"] = "1";
  TuneRequest r = path(kGbit, milliseconds(80));
  EXPECT_EQ(row(recommend(s, r), "net.ipv4.conf.all.rp_filter").action, Action::advise);
  r.target = TargetKind::netns;
  const auto rows = recommend(s, r);
  const auto& rp = row(rows, "net.ipv4.conf.all.rp_filter");
  EXPECT_EQ(rp.action, Action::set);
  EXPECT_EQ(rp.recommended, "2");
  EXPECT_EQ(row(rows, "net.ipv4.conf.eth0.rp_filter").action, Action::keep);
}

TEST(TuneRecommend, NotesWhenOneStreamCannotFill) {
  // 100 Gbit/s x 346 ms = 4.3 GB: beyond any single TCP window.
  const PathFigures p = analyse_path(stock_host(), path(100 * kGbit, milliseconds(346)));
  EXPECT_EQ(p.streams_to_fill, 9U);  // 4.325 GB / 512 MiB
  ASSERT_FALSE(p.notes.empty());
  EXPECT_THAT(p.notes.front(), HasSubstr("--streams 9"));
  EXPECT_EQ(p.mss_bytes, 1448U);
  EXPECT_EQ(p.slow_start.rounds, 19U);
  // MSS follows the route's MTU metric and the address family.
  HostSettings s = stock_host();
  s.route->mtu = 1400;
  EXPECT_EQ(analyse_path(s, path(kGbit, milliseconds(10))).mss_bytes, 1348U);
  s.route->ipv6 = true;
  EXPECT_EQ(analyse_path(s, path(kGbit, milliseconds(10))).mss_bytes, 1328U);
  s.sysctls["net.ipv4.tcp_timestamps"] = "0";
  EXPECT_EQ(analyse_path(s, path(kGbit, milliseconds(10))).mss_bytes, 1340U);
}

}  // namespace
}  // namespace longhaul::tune
