#include "tune/recommend.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <iterator>
#include <sstream>

namespace longhaul::tune {

namespace {

constexpr std::int64_t kIntMax = 2147483647;
// A stream whose window exceeds this is "long fat" enough for the congestion-control, qdisc and
// idle-restart rules (1 Gbit/s x 8 ms; a LAN at 10 Gbit/s x 0.1 ms is not).
constexpr double kLongFatWindowBytes = 1 << 20;
constexpr std::uint64_t kTenGbit = 10'000'000'000ULL;
constexpr std::int64_t kJumboMtu = 9000;
constexpr std::int64_t kFastTxqueuelen = 10000;
// Kernel memory per conntrack entry, order of magnitude (struct nf_conn and its extensions).
constexpr double kConntrackEntryBytes = 320;
constexpr std::int64_t kDefaultConntrackTimeWait = 120;

std::string bytes_text(double bytes) {
  return core::format_bytes(bytes);
}

std::string rate_text(double bps) {
  return core::format_rate(bps);
}

std::string duration_text(core::Nanos d) {
  return core::format_duration(d);
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream stream(text);
  for (std::string word; stream >> word;) out.push_back(word);
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Shared state of one recommend() call.
class Rules {
 public:
  Rules(const HostSettings& settings, const TuneRequest& request)
      : s_(settings), r_(request), p_(analyse_path(settings, request)) {}

  std::vector<Recommendation> run() {
    socket_buffers();
    core_buffer_limits();
    protocol_safety();
    congestion_control();
    default_qdisc();
    mtu_probing();
    slow_start_after_idle();
    interface_rows();
    route_rows();
    port_range_and_reuse();
    conntrack();
    rp_filter();
    tcp_mem();
    return {std::make_move_iterator(rows_.begin()), std::make_move_iterator(rows_.end())};
  }

 private:
  // Throughput `streams` connections reach with `window` bytes each, at most the link rate.
  double window_allows(double window) const {
    return std::min(window_limited_bps(window, r_.rtt) * r_.streams,
                    static_cast<double>(r_.rate_bps));
  }

  bool long_fat() const {
    return p_.window_per_stream_bytes >= kLongFatWindowBytes || r_.loss.value_or(0) > 0;
  }

  Recommendation& sysctl_row(const std::string& name) {
    Recommendation row;
    row.setting = name;
    row.scope = sysctl_scope(name, s_);
    if (const auto value = s_.sysctl(name)) row.current = normalize_value(*value);
    rows_.push_back(std::move(row));
    return rows_.back();
  }

  // Fills the verdict; a "set" to what is already there becomes "keep".
  static void verdict(Recommendation& row, Action action, std::string recommended,
                      std::string why) {
    row.recommended = normalize_value(recommended);
    row.why = std::move(why);
    row.action = action;
    if (action == Action::set && row.current && *row.current == row.recommended) {
      row.action = Action::keep;
    }
  }

  static void keep(Recommendation& row, std::string why) {
    verdict(row, Action::keep, row.current.value_or("-"), std::move(why));
  }

  // tcp_rmem / tcp_wmem: the autotuning maximum must hold one stream's window plus overhead.
  void autotuning_limit(const std::string& name, double per_window, const char* side) {
    Recommendation& row = sysctl_row(name);
    const auto values = s_.integers(name);
    const double needed = p_.window_per_stream_bytes * per_window;
    const std::uint64_t tier = power_of_two_tier(needed, kBufferTierFloor, kBufferTierCeiling);
    if (!values || values->size() != 3) {
      verdict(row, Action::advise, fmt::format("4096 131072 {}", tier),
              fmt::format("not readable here; {} max must hold {} per stream", side,
                          bytes_text(needed)));
      return;
    }
    const auto [low, initial, max] = std::tuple((*values)[0], (*values)[1], (*values)[2]);
    const auto recommended_max = std::max<std::int64_t>(max, static_cast<std::int64_t>(tier));
    row.allows = Allows{"bit/s", window_allows(static_cast<double>(max) / per_window),
                        window_allows(static_cast<double>(recommended_max) / per_window)};
    const std::string need =
        fmt::format("{} window per stream x {:g} for kernel overhead = {}",
                    bytes_text(p_.window_per_stream_bytes), per_window, bytes_text(needed));
    if (static_cast<double>(max) >= needed || recommended_max == max) {
      keep(row, static_cast<double>(max) >= needed
                    ? fmt::format("{} autotuning max holds {}", side, need)
                    : fmt::format("at the 1 GiB ceiling; {} needs more streams", need));
      return;
    }
    verdict(row, Action::set, fmt::format("{} {} {}", low, initial, recommended_max),
            fmt::format("{} autotuning stops at the max; needs {}", side, need));
  }

  void socket_buffers() {
    autotuning_limit("net.ipv4.tcp_rmem", p_.buffer_per_window, "receive");
    // The send buffer holds unacknowledged data at its skb truesize, and autotuning sizes it at
    // about twice the congestion window: 2x on every kernel.
    autotuning_limit("net.ipv4.tcp_wmem", 2.0, "send");
  }

  // net.core.rmem_max / wmem_max cap what applications ask for with SO_RCVBUF / SO_SNDBUF (which
  // also switches autotuning off for that socket). The kernel doubles the request, so a cap of W
  // gives a W window at the 2x overhead. ESnet sets them to twice the TCP autotuning maximum.
  void core_buffer_limits() {
    for (const char* name : {"net.core.rmem_max", "net.core.wmem_max"}) {
      Recommendation& row = sysctl_row(name);
      const auto value = s_.integer(name);
      const auto recommended =
          std::min<std::int64_t>(static_cast<std::int64_t>(2 * p_.buffer_tier_bytes), kIntMax);
      const double per_window = name[9] == 'r' ? p_.buffer_per_window : 2.0;
      if (!value) {
        verdict(row, Action::advise, std::to_string(recommended), "not readable here");
        continue;
      }
      const auto best = std::max(*value, recommended);
      row.allows = Allows{"bit/s", window_allows(2.0 * static_cast<double>(*value) / per_window),
                          window_allows(2.0 * static_cast<double>(best) / per_window)};
      if (static_cast<double>(*value) >= p_.window_per_stream_bytes) {
        keep(row, fmt::format("lets applications that set {} themselves get a {} window",
                              name[9] == 'r' ? "SO_RCVBUF" : "SO_SNDBUF",
                              bytes_text(p_.window_per_stream_bytes)));
        continue;
      }
      verdict(row, Action::set, std::to_string(best),
              fmt::format("caps {} set by applications (iperf3 -w); ESnet: 2x the TCP max",
                          name[9] == 'r' ? "SO_RCVBUF" : "SO_SNDBUF"));
    }
  }

  // Settings that must stay on; shown only when they are off (or, for tw_recycle, present).
  void protocol_safety() {
    if (s_.integer("net.ipv4.tcp_window_scaling").value_or(1) == 0) {
      Recommendation& row = sysctl_row("net.ipv4.tcp_window_scaling");
      row.allows = Allows{"bit/s", window_allows(65535), window_allows(p_.window_per_stream_bytes)};
      verdict(row, Action::set, "1", "off caps every window at 64 KiB (RFC 7323); never disable");
    }
    if (s_.integer("net.ipv4.tcp_sack").value_or(1) == 0) {
      verdict(sysctl_row("net.ipv4.tcp_sack"), Action::set, "1",
              "without SACK each loss in a large window costs round trips to repair; never "
              "disable");
    }
    if (s_.integer("net.ipv4.tcp_timestamps").value_or(1) == 0) {
      verdict(sysctl_row("net.ipv4.tcp_timestamps"), Action::set, "1",
              "needed for PAWS at high rates, RTT measurement and tcp_tw_reuse; never disable");
    }
    if (const auto recycle = s_.integer("net.ipv4.tcp_tw_recycle")) {
      Recommendation& row = sysctl_row("net.ipv4.tcp_tw_recycle");
      const std::string why =
          "breaks clients behind NAT; removed in Linux 4.12; never enable (use tcp_tw_reuse)";
      if (*recycle != 0) {
        verdict(row, Action::set, "0", why);
      } else {
        keep(row, why);
      }
    }
  }

  void congestion_control() {
    const std::string name = "net.ipv4.tcp_congestion_control";
    Recommendation& row = sysctl_row(name);
    const std::string current = row.current.value_or("");
    const auto available =
        words(s_.sysctl("net.ipv4.tcp_available_congestion_control").value_or(""));
    const auto allowed = words(s_.sysctl("net.ipv4.tcp_allowed_congestion_control").value_or(""));
    const auto allows_with = [&](const std::string& algorithm) -> std::optional<double> {
      if (!r_.loss || *r_.loss <= 0) return std::nullopt;
      if (algorithm == "bbr") return static_cast<double>(r_.rate_bps);
      return std::min(*p_.mathis_bps_per_stream * r_.streams, static_cast<double>(r_.rate_bps));
    };
    const auto with_allows = [&](const std::string& recommended) {
      if (r_.loss && *r_.loss > 0) {
        row.allows = Allows{"bit/s", allows_with(current), allows_with(recommended)};
      }
    };
    if (!s_.kernel.at_least(4, 9)) {
      // No BBR before 4.9; ESnet's advice for older kernels is H-TCP.
      if (long_fat() && current != "htcp") {
        verdict(row, Action::advise, "htcp",
                "BBR needs Linux 4.9; ESnet recommends htcp on older kernels (modprobe tcp_htcp)");
      } else {
        keep(row, "BBR needs Linux 4.9");
      }
      with_allows(row.recommended);
      return;
    }
    if (current == "bbr") {
      keep(row, "BBR paces at the measured bottleneck rate; random loss does not halve it");
      with_allows(current);
      return;
    }
    if (!long_fat()) {
      keep(row, fmt::format("{} fills a path this short", current.empty() ? "cubic" : current));
      with_allows(current);
      return;
    }
    with_allows("bbr");
    const std::string why =
        "BBR (4.9+) paces at the bottleneck rate and does not treat random loss as congestion "
        "(ESnet: bbr or htcp); BBRv1 can crowd out CUBIC on shared paths";
    if (s_.read_in_netns && !contains(allowed, "bbr")) {
      verdict(row, Action::advise, "bbr",
              "a namespace may only choose from net.ipv4.tcp_allowed_congestion_control "
              "(host-global): on the host, modprobe tcp_bbr and add bbr there first");
      return;
    }
    verdict(row, Action::set, "bbr",
            contains(available, "bbr") ? why : why + " (writing it loads tcp_bbr)");
  }

  std::string recommended_congestion_control() const {
    for (const auto& row : rows_) {
      if (row.setting == "net.ipv4.tcp_congestion_control") return row.recommended;
    }
    return {};
  }

  void default_qdisc() {
    Recommendation& row = sysctl_row("net.core.default_qdisc");
    if (!row.current) {
      keep(row, "not readable here");
      return;
    }
    if (*row.current == "fq") {
      keep(row, "fq paces each flow at its rate");
      return;
    }
    const bool bbr = recommended_congestion_control() == "bbr";
    if (bbr && !s_.kernel.at_least(4, 13)) {
      verdict(row, Action::set, "fq", "BBR before Linux 4.13 paces only with the fq qdisc");
    } else if (long_fat()) {
      verdict(row, Action::set, "fq",
              "fq paces each flow, smoothing bursts into the path (ESnet); takes effect on qdiscs "
              "created later: tc qdisc replace dev IF root fq");
    } else {
      keep(row, "pacing matters little at this bandwidth-delay product");
    }
  }

  void mtu_probing() {
    Recommendation& row = sysctl_row("net.ipv4.tcp_mtu_probing");
    const auto value = s_.integer("net.ipv4.tcp_mtu_probing");
    const std::string why =
        "1 probes a smaller MSS only after an ICMP black hole stalls a connection (ESnet: 1, "
        "essential with jumbo frames)";
    if (value && *value == 0) {
      verdict(row, Action::set, "1", why);
    } else {
      keep(row, why);
    }
  }

  void slow_start_after_idle() {
    Recommendation& row = sysctl_row("net.ipv4.tcp_slow_start_after_idle");
    const auto value = s_.integer("net.ipv4.tcp_slow_start_after_idle");
    if (value && *value != 0 && long_fat()) {
      verdict(row, Action::set, "0",
              fmt::format("else a connection idle for one RTO restarts slow start: {} round trips "
                          "({}) back to full speed",
                          p_.slow_start.rounds, duration_text(p_.slow_start.time)));
    } else {
      keep(row, "idle connections keep their window (0) or the path is short");
    }
  }

  void interface_rows() {
    if (!s_.link) return;
    const LinkSettings& link = *s_.link;
    const std::string object = "dev " + link.name;
    {
      Recommendation row;
      row.setting = "mtu";
      row.object = object;
      row.scope = Scope::interface;
      row.current = std::to_string(link.mtu);
      if (r_.rate_bps >= kTenGbit && link.mtu < kJumboMtu) {
        verdict(row, Action::advise, std::to_string(kJumboMtu),
                "jumbo frames cut per-packet work 6x at 10 Gbit/s and up; only if every hop and "
                "the peer carry 9000 bytes");
      } else {
        keep(row, "standard frames suffice at this rate");
      }
      rows_.push_back(std::move(row));
    }
    Recommendation row;
    row.setting = "txqueuelen";
    row.object = object;
    row.scope = Scope::interface;
    row.current = std::to_string(link.txqueuelen);
    const double drain_ms = static_cast<double>(link.txqueuelen) * link.mtu * 8.0 /
                            static_cast<double>(r_.rate_bps) * 1e3;
    if (link.qdisc == "noqueue") {
      keep(row, "no qdisc on this interface (noqueue): the length is unused");
    } else if (r_.rate_bps >= kTenGbit && link.txqueuelen < kFastTxqueuelen) {
      verdict(row, Action::set, std::to_string(kFastTxqueuelen),
              fmt::format("{} packets drain in {:.2g} ms at {}: bursts overflow and count as "
                          "congestion (ESnet: 10000 for 10 Gbit/s+)",
                          link.txqueuelen, drain_ms, rate_text(static_cast<double>(r_.rate_bps))));
    } else {
      keep(row, fmt::format("drains in {:.2g} ms at this rate", drain_ms));
    }
    rows_.push_back(std::move(row));
  }

  void route_rows() {
    if (!s_.route) return;
    const RouteSettings& route = *s_.route;
    const std::string object = "route " + route.description;
    const std::uint32_t initcwnd = route.initcwnd.value_or(kDefaultInitcwnd);
    const std::uint32_t initrwnd = route.initrwnd.value_or(kDefaultInitcwnd);
    const double window = p_.window_per_stream_bytes;
    const SlowStart now = slow_start(initcwnd, window, p_.mss_bytes, r_.rtt);
    const SlowStart raised =
        slow_start(std::max(initcwnd, kRaisedInitcwnd), window, p_.mss_bytes, r_.rtt);
    const bool worth_it = r_.rtt >= std::chrono::milliseconds(10) && now.rounds >= 4;
    const Action raise = route.unsupported.empty() ? Action::set : Action::advise;
    const std::string caveat =
        route.unsupported.empty() ? "RFC 6928 chose 10 for shared paths: raise on paths you control"
                                  : "longhaul cannot change this route: " + route.unsupported;

    Recommendation cwnd;
    cwnd.setting = "initcwnd";
    cwnd.object = object;
    cwnd.scope = Scope::route;
    cwnd.current = route.initcwnd ? std::to_string(*route.initcwnd) : "default (10)";
    if (initcwnd >= kRaisedInitcwnd || !worth_it) {
      verdict(cwnd, Action::keep, cwnd.current.value_or(""),
              fmt::format("slow start to the {} window: {} round trips ({})", bytes_text(window),
                          now.rounds, duration_text(now.time)));
    } else {
      verdict(cwnd, raise, std::to_string(kRaisedInitcwnd),
              fmt::format("slow start to the {} window: {} -> {} round trips ({} -> {}); {}",
                          bytes_text(window), now.rounds, raised.rounds, duration_text(now.time),
                          duration_text(raised.time), caveat));
    }
    const bool raising = cwnd.action != Action::keep || initcwnd >= kRaisedInitcwnd;
    rows_.push_back(std::move(cwnd));

    Recommendation rwnd;
    rwnd.setting = "initrwnd";
    rwnd.object = object;
    rwnd.scope = Scope::route;
    rwnd.current = route.initrwnd ? std::to_string(*route.initrwnd) : "default (10)";
    const std::string rwnd_why =
        "our first advertised window is 10 segments unless initrwnd is set, capping a peer's "
        "larger initial window";
    if (raising && worth_it && initrwnd < kRaisedInitcwnd) {
      verdict(rwnd, raise, std::to_string(kRaisedInitcwnd),
              raise == Action::set ? rwnd_why : rwnd_why + "; " + caveat);
    } else {
      verdict(rwnd, Action::keep, rwnd.current.value_or(""), rwnd_why);
    }
    rows_.push_back(std::move(rwnd));
  }

  // Seconds a closed outgoing connection holds its local port with tcp_tw_reuse = `reuse`.
  double port_hold_seconds(std::int64_t reuse) const {
    if (reuse != 1) return kTimeWaitSeconds;
    // Reuse is allowed once the TIME_WAIT socket is a second old (tcp_tw_reuse_delay, in ms, on
    // kernels that have it).
    return static_cast<double>(s_.integer("net.ipv4.tcp_tw_reuse_delay").value_or(1000)) / 1e3;
  }

  void port_range_and_reuse() {
    Recommendation& range = sysctl_row("net.ipv4.ip_local_port_range");
    const auto ports = s_.integers("net.ipv4.ip_local_port_range");
    const auto reuse = s_.integer("net.ipv4.tcp_tw_reuse").value_or(0);
    if (!ports || ports->size() != 2) {
      keep(range, "not readable here");
      return;
    }
    const std::int64_t low = (*ports)[0];
    const std::int64_t high = (*ports)[1];
    const double count = static_cast<double>(high - low + 1);
    const std::int64_t wide_low = std::min(low, kWidePortLow);
    const std::int64_t wide_high = std::max(high, kWidePortHigh);
    const double wide_count = static_cast<double>(wide_high - wide_low + 1);
    const double churn = r_.churn_per_s.value_or(0);
    const bool widen = churn > count / port_hold_seconds(reuse) && wide_count > count;
    const double range_after = widen ? wide_count : count;
    const bool need_reuse = churn > range_after / kTimeWaitSeconds && reuse != 1;
    const std::int64_t reuse_after = need_reuse ? 1 : reuse;
    // Each row shows its own change on top of the rows before it: the range row with the
    // current tcp_tw_reuse, the tcp_tw_reuse row starting from where the range row ends.
    range.allows = Allows{"connections/s", count / port_hold_seconds(reuse),
                          range_after / port_hold_seconds(reuse)};
    const std::string per = fmt::format(
        "{:.0f} ports, each held {:g} s after close: {:.0f} new connections/s to one server "
        "address:port",
        count, port_hold_seconds(reuse), count / port_hold_seconds(reuse));
    if (widen) {
      verdict(range, Action::set, fmt::format("{} {}", wide_low, wide_high),
              per + fmt::format("; {:g}/s needs more (reserve service ports with "
                                "ip_local_reserved_ports)",
                                churn));
    } else {
      keep(range, per);
    }

    Recommendation& reuse_row = sysctl_row("net.ipv4.tcp_tw_reuse");
    reuse_row.allows = Allows{"connections/s", range_after / port_hold_seconds(reuse),
                              range_after / port_hold_seconds(reuse_after)};
    const std::string why =
        "1 lets outgoing connections reuse a port in TIME_WAIT after 1 s (timestamps keep it "
        "safe); pooled keep-alive connections avoid the churn altogether";
    if (need_reuse) {
      verdict(reuse_row, Action::set, "1", why);
    } else {
      keep(reuse_row, why);
    }
  }

  void conntrack() {
    const std::string max_name = "net.netfilter.nf_conntrack_max";
    const std::string buckets_name = "net.netfilter.nf_conntrack_buckets";
    Recommendation& max_row = sysctl_row(max_name);
    const auto max = s_.integer(max_name);
    if (!max) {
      keep(max_row, "connection tracking is not loaded: nothing to exhaust");
      return;
    }
    const auto time_wait = s_.integer("net.netfilter.nf_conntrack_tcp_timeout_time_wait")
                               .value_or(kDefaultConntrackTimeWait);
    const double hold = static_cast<double>(std::max<std::int64_t>(time_wait, 1));
    const double churn = r_.churn_per_s.value_or(0);
    const double needed = churn * hold;
    std::int64_t recommended = *max;
    if (static_cast<double>(*max) < needed) {
      // Twice the TIME_WAIT population, for established and half-open entries.
      recommended =
          static_cast<std::int64_t>(power_of_two_tier(2 * needed, 1, std::uint64_t{1} << 31));
    }
    max_row.allows = Allows{"connections/s", static_cast<double>(*max) / hold,
                            static_cast<double>(recommended) / hold};
    const std::string why = fmt::format(
        "a closed connection stays tracked {} s; about {:.0f} B of kernel memory per entry ({} "
        "at {})",
        time_wait, kConntrackEntryBytes,
        bytes_text(kConntrackEntryBytes * static_cast<double>(recommended)), recommended);
    if (recommended > *max) {
      verdict(max_row, Action::set, std::to_string(recommended), why);
    } else {
      keep(max_row, why);
    }
    Recommendation& buckets_row = sysctl_row(buckets_name);
    const auto buckets = s_.integer(buckets_name);
    const std::string buckets_why =
        "hash size; each connection is hashed twice, so buckets = max keeps chains at 2 "
        "(the kernel's default ratio)";
    if (buckets && recommended > *max && *buckets < recommended) {
      verdict(buckets_row, Action::set, std::to_string(recommended), buckets_why);
    } else {
      keep(buckets_row, buckets_why);
    }
  }

  void rp_filter() {
    std::vector<std::string> names{"net.ipv4.conf.all.rp_filter"};
    if (s_.link) {
      std::string dev = s_.link->name;
      std::replace(dev.begin(), dev.end(), '.', '/');
      names.push_back("net.ipv4.conf." + dev + ".rp_filter");
    }
    std::int64_t effective = 0;
    for (const auto& name : names) effective = std::max(effective, s_.integer(name).value_or(0));
    for (const auto& name : names) {
      if (!s_.sysctl(name)) continue;
      Recommendation& row = sysctl_row(name);
      if (s_.integer(name).value_or(0) == 1) {
        // Strict mode is a host's security policy; in a lab namespace it only breaks asymmetric
        // paths, so it is set there and merely advised on the host.
        verdict(row, r_.target == TargetKind::netns ? Action::set : Action::advise, "2",
                "strict (1) drops replies that arrive on another interface than the route back: "
                "asymmetric lab paths need loose (2)");
      } else {
        keep(row, effective == 1
                      ? std::string("the kernel uses max(all, interface) = 1: see the strict one")
                      : fmt::format("the kernel uses max(all, interface) = {}: asymmetric paths "
                                    "pass",
                                    effective));
      }
    }
  }

  void tcp_mem() {
    Recommendation& row = sysctl_row("net.ipv4.tcp_mem");
    const auto pages = s_.integers("net.ipv4.tcp_mem");
    if (!pages || pages->size() != 3) {
      keep(row, "not readable here");
      return;
    }
    const double page = static_cast<double>(s_.page_size);
    const double needed_bytes = p_.buffer_needed_bytes * r_.streams;
    const auto needed_pages = static_cast<std::int64_t>(std::ceil(needed_bytes / page));
    const auto [low, pressure, high] = std::tuple((*pages)[0], (*pages)[1], (*pages)[2]);
    if (pressure >= needed_pages) {
      keep(row, fmt::format("in pages of {} B, not bytes: pressure starts at {}, above the {} "
                            "{} stream(s) need",
                            s_.page_size, bytes_text(static_cast<double>(pressure) * page),
                            bytes_text(needed_bytes), r_.streams));
      return;
    }
    verdict(row, Action::advise,
            fmt::format("{} {} {}", low, needed_pages, std::max(high, needed_pages * 3 / 2)),
            fmt::format("in pages of {} B, not bytes: {} stream(s) need {}; sized from RAM at "
                        "boot, raise only if the memory is there",
                        s_.page_size, r_.streams, bytes_text(needed_bytes)));
  }

  const HostSettings& s_;
  const TuneRequest& r_;
  const PathFigures p_;
  // A deque: rows are filled through references sysctl_row hands out, and a deque's
  // push_back never moves the rows already in it (a vector's would, past its capacity).
  std::deque<Recommendation> rows_;
};

}  // namespace

std::string_view to_string(Action action) {
  switch (action) {
    case Action::keep:
      return "keep";
    case Action::set:
      return "set";
    case Action::advise:
      return "advise";
  }
  return "?";
}

Scope sysctl_scope(const std::string& name, const HostSettings& settings) {
  // Static knowledge first: these are one value per machine on every kernel (net.core.* and
  // tcp_mem are not even visible inside a namespace on 6.x; conntrack's hash size is writable
  // only in the initial namespace, and its max is read-only elsewhere on 6.x and was a single
  // global variable on kernels that showed it writable).
  if (name.starts_with("net.core.") || name == "net.ipv4.tcp_mem" ||
      name == "net.netfilter.nf_conntrack_max" || name == "net.netfilter.nf_conntrack_buckets") {
    return Scope::global;
  }
  // What the namespace itself says: a sysctl it shows read-only is the host's.
  if (settings.read_in_netns && settings.sysctls.contains(name) &&
      !settings.netns_writable.contains(name)) {
    return Scope::global;
  }
  return Scope::netns;
}

std::string refusal_reason(const Recommendation& row, TargetKind target) {
  if (row.scope == Scope::global && target == TargetKind::netns) {
    return "host-global: one value for the whole machine (read-only inside a namespace); set it "
           "on the host with --host";
  }
  if (row.scope == Scope::interface && row.setting != "txqueuelen") {
    return "longhaul does not change " + row.setting + ": it must match the whole path";
  }
  return {};
}

double buffer_per_window(const HostSettings& settings) {
  // Since 6.6 the kernel measures the payload/truesize ratio of what it receives and ignores
  // tcp_adv_win_scale; the ratio starts at 1/2, so 2x is the safe sizing.
  if (settings.kernel.at_least(6, 6)) return 2.0;
  // Before: window = space - space >> adv (adv > 0), or space >> -adv (adv <= 0).
  const auto adv =
      std::clamp<std::int64_t>(settings.integer("net.ipv4.tcp_adv_win_scale").value_or(1), -31, 31);
  if (adv > 0) return 1.0 / (1.0 - std::ldexp(1.0, static_cast<int>(-adv)));
  return std::ldexp(1.0, static_cast<int>(-adv));
}

PathFigures analyse_path(const HostSettings& settings, const TuneRequest& request) {
  return analyse_path(settings, request, buffer_per_window(settings));
}

PathFigures analyse_path(const HostSettings& settings, const TuneRequest& request,
                         double buffer_ratio) {
  PathFigures p;
  const unsigned streams = std::max(request.streams, 1U);
  p.bdp_bytes = bdp_bytes(request.rate_bps, request.rtt);
  p.window_per_stream_bytes = p.bdp_bytes / streams;
  p.buffer_per_window = buffer_ratio;
  p.buffer_needed_bytes = p.window_per_stream_bytes * p.buffer_per_window;
  p.buffer_tier_bytes =
      power_of_two_tier(p.buffer_needed_bytes, kBufferTierFloor, kBufferTierCeiling);
  // MSS: the route's MTU metric, else the interface's, else Ethernet's 1500; minus the IP (20 or
  // 40) and TCP (20) headers and the 12-byte timestamp option when timestamps are on.
  std::uint32_t mtu = 1500;
  if (settings.link && settings.link->mtu > 0) mtu = settings.link->mtu;
  if (settings.route && settings.route->mtu) mtu = *settings.route->mtu;
  const bool timestamps = settings.integer("net.ipv4.tcp_timestamps").value_or(1) != 0;
  const bool ipv6 = settings.route && settings.route->ipv6;
  const std::uint32_t headers = (ipv6 ? 60U : 40U) + (timestamps ? 12U : 0U);
  p.mss_bytes = mtu > headers + 88 ? mtu - headers : 536;
  p.initcwnd =
      settings.route && settings.route->initcwnd ? *settings.route->initcwnd : kDefaultInitcwnd;
  p.slow_start = slow_start(p.initcwnd, p.window_per_stream_bytes, p.mss_bytes, request.rtt);
  if (request.loss && *request.loss > 0) {
    p.mathis_bps_per_stream = mathis_bps(p.mss_bytes, request.rtt, *request.loss);
  }

  const double largest_window =
      std::min(kMaxTcpWindowBytes, static_cast<double>(kBufferTierCeiling) / p.buffer_per_window);
  p.streams_to_fill = static_cast<unsigned>(std::ceil(p.bdp_bytes / largest_window));
  if (p.window_per_stream_bytes > largest_window) {
    p.notes.push_back(fmt::format(
        "one stream cannot hold a {} window ({} buffer at most); use at least {} streams "
        "(--streams {})",
        bytes_text(p.window_per_stream_bytes), bytes_text(static_cast<double>(kBufferTierCeiling)),
        p.streams_to_fill, p.streams_to_fill));
  }
  if (p.mathis_bps_per_stream) {
    p.notes.push_back(fmt::format(
        "at {:g}% loss a loss-based stream (Reno/CUBIC) reaches about {} (Mathis); larger windows "
        "do not help there: use BBR or more streams, and keep windows modest on congested paths",
        *request.loss * 100, rate_text(*p.mathis_bps_per_stream)));
  }
  if (p.slow_start.time >= std::chrono::seconds(1)) {
    p.notes.push_back(fmt::format(
        "slow start needs at least {} ({} round trips, {} sent) to reach the window: a short "
        "test under-reports, and HyStart or a loss makes it longer",
        duration_text(p.slow_start.time), p.slow_start.rounds,
        bytes_text(p.slow_start.bytes_sent)));
  }
  if (settings.route && !settings.route->unsupported.empty()) {
    p.notes.push_back("route " + settings.route->description + ": " + settings.route->unsupported +
                      "; its metrics are shown but not changed");
  }
  return p;
}

std::vector<Recommendation> recommend(const HostSettings& settings, const TuneRequest& request) {
  return Rules(settings, request).run();
}

}  // namespace longhaul::tune
