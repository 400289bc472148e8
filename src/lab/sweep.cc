#include "lab/sweep.hh"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/netns.hh"
#include "io/sysctl.hh"
#include "lab/lab_session.hh"
#include "lab/lab_state.hh"
#include "lab/topology_file.hh"
#include "link/link_options.hh"
#include "measure/bench_config.hh"
#include "measure/bulk/client.hh"
#include "measure/bulk/server.hh"
#include "tune/apply.hh"
#include "tune/inspect.hh"
#include "tune/recommend.hh"
#include "tune/saved_state.hh"

namespace longhaul::lab {

namespace {

using namespace std::chrono_literals;

constexpr const char* kClientSite = "client";
constexpr const char* kServerSite = "server";
// Ethernet header and longhaul's default per-packet overhead (preamble, FCS, gap): what the
// bottleneck charges a full segment beyond its MTU-sized IP packet (link::kFullSizeWireBytes).
constexpr std::uint32_t kFrameBytesBeyondMtu =
    static_cast<std::uint32_t>(link::kFullSizeWireBytes) - 1500;

bool readable(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

// The two-site lab of one RTT, as a topology file would say it.
std::string lab_text(const std::string& name, const measure::SweepSettings& s, core::Nanos rtt) {
  std::string text = fmt::format(
      "name = \"{}\"\n[[site]]\nname = \"{}\"\n[[site]]\nname = \"{}\"\n"
      "[[lane]]\na = \"{}\"\nb = \"{}\"\nrtt = \"{}ns\"\nrate = \"{}bit\"\n",
      name, kClientSite, kServerSite, kClientSite, kServerSite, rtt.count(), s.rate_bps);
  if (s.loss) text += fmt::format("loss = \"{:.10g}%\"\n", *s.loss * 100);
  return text;
}

struct Site {
  std::string netns;
  std::string ipv4;
};

Site site_of(const LabState& state, const std::string& name) {
  const auto& site = find_site(state, name);
  return {site.at("netns").get<std::string>(),
          site.at("interfaces").at(0).at("ipv4").get<std::string>()};
}

// One RTT's lab: reverts what the tuned profile applied and takes the lab down when it goes,
// whatever happened (errors, Ctrl-C), so a sweep leaves neither namespaces nor tune state.
class SweepLab {
 public:
  explicit SweepLab(LabState state) : state_(std::move(state)) {}
  SweepLab(const SweepLab&) = delete;
  SweepLab& operator=(const SweepLab&) = delete;
  ~SweepLab() {
    revert_tuning();
    try {
      lab_down(state_);
    } catch (...) {
      tear_down_lab(state_);
    }
  }
  const LabState& state() const { return state_; }
  void tuned(const tune::TuneRequest& request) { tuned_.push_back(request); }
  void revert_tuning() noexcept {
    for (auto it = tuned_.rbegin(); it != tuned_.rend(); ++it) {
      try {
        tune::revert(*it);
      } catch (...) {
        // The namespace goes with the lab; only the state file could be left.
        std::error_code ignored;
        std::filesystem::remove(std::filesystem::path(tune::kTuneStateDir) /
                                    tune::state_file_name(it->target, it->netns),
                                ignored);
      }
    }
    tuned_.clear();
  }

 private:
  LabState state_;
  std::vector<tune::TuneRequest> tuned_;
};

// --window: a host with small buffers. The autotuning maxima of tcp_rmem and tcp_wmem become
// `bytes` (the minimum and initial values are lowered to fit when needed).
void cap_buffers(const std::string& netns, std::uint64_t bytes) {
  const io::Netns ns = io::Netns::open(netns);
  io::run_in_netns(ns.fd(), [bytes] {
    for (const char* key : {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}) {
      std::istringstream in(io::read_sysctl(key));
      std::uint64_t low = 0, initial = 0, high = 0;
      if (!(in >> low >> initial >> high)) {
        throw std::runtime_error(fmt::format("{} in {} is not three numbers", key, "the site"));
      }
      high = bytes;
      initial = std::min(initial, high);
      low = std::min(low, initial);
      io::write_sysctl(key, fmt::format("{} {} {}", low, initial, high));
    }
  });
}

tune::TuneRequest tune_request(const measure::SweepSettings& s, core::Nanos rtt, const Site& site,
                               const Site& peer) {
  tune::TuneRequest request;
  request.rate_bps = s.rate_bps;
  // tune sizes by rate x RTT and needs a round trip; at "0 ms" the lane's own ~0.1 ms stands in.
  request.rtt = std::max(rtt, core::Nanos{100us});
  request.streams = s.streams;
  request.target = tune::TargetKind::netns;
  request.netns = site.netns;
  request.peer = peer.ipv4;  // the route the test uses: sites have no default route
  request.loss = s.loss;
  return request;
}

// An observer that only passes progress on.
class SweepObserver : public measure::BenchObserver {
 public:
  explicit SweepObserver(std::function<void(const measure::ProgressState&)> progress)
      : progress_(std::move(progress)) {}
  void on_start(const measure::StartInfo&) override {}
  void on_interval(const measure::SideInterval&, const measure::BenchConfig&) override {}
  void on_progress(const measure::ProgressState& state) override {
    if (progress_) progress_(state);
  }
  void on_finish(const measure::BenchResult&) override {}

 private:
  std::function<void(const measure::ProgressState&)> progress_;
};

// One test: a --once server on a thread inside the server site, the client inside the client
// site. Sockets stay in the namespace of the thread that opened them (io/netns.hh).
measure::BenchResult run_test(const Site& client, const Site& server,
                              const measure::BenchConfig& config, const SweepRequest& request,
                              measure::BenchObserver& observer) {
  const io::Netns server_ns = io::Netns::open(server.netns);
  const io::Netns client_ns = io::Netns::open(client.netns);
  io::Fd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop.valid()) io::throw_errno("eventfd", "bench sweep server stop");
  measure::ServerOptions server_options;
  server_options.bind_address = server.ipv4;
  server_options.port = 0;  // any free port: nothing else listens in a fresh site, but be sure
  server_options.once = true;
  server_options.version = request.version;
  server_options.interrupt_fd = stop.get();
  auto bench_server = io::run_in_netns(
      server_ns.fd(), [&] { return std::make_unique<measure::BenchServer>(server_options); });
  SweepObserver quiet(nullptr);
  std::thread serving([&] {
    try {
      io::detail::enter_netns(server_ns.fd());
      bench_server->serve(quiet);
    } catch (...) {
      // The client reports the failed test; a server error has nobody else to tell.
    }
  });
  // Whatever the client does, the server thread is told to stop and joined.
  struct Join {
    io::Fd& stop;
    std::thread& thread;
    ~Join() {
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto written = ::write(stop.get(), &one, sizeof one);
      thread.join();
    }
  } join{stop, serving};
  measure::ClientOptions options;
  options.host = server.ipv4;
  options.port = bench_server->port();
  options.config = config;
  options.version = request.version;
  options.interrupt_fd = request.interrupt_fd;
  return io::run_in_netns(client_ns.fd(), [&] { return measure::run_client(options, observer); });
}

std::string kernel_release() {
  utsname name{};
  return ::uname(&name) == 0 ? name.release : "";
}

std::string describe_change(const tune::SavedChange& change) {
  return fmt::format("{}{} = {} (was {})", change.setting,
                     change.object.empty() ? "" : " (" + change.object + ")", change.applied,
                     change.previous.value_or("the kernel default"));
}

}  // namespace

core::Parsed<std::vector<core::Nanos>> parse_rtt_list(const std::string& text) {
  std::vector<std::string> items;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) items.push_back(item);
  if (text.empty() || text.back() == ',') items.emplace_back();
  // The unit the last item carries, for bare numbers before it.
  const std::string& last = items.back();
  const auto unit_at = last.find_first_not_of("0123456789.");
  const std::string unit = unit_at == std::string::npos ? "" : last.substr(unit_at);
  std::vector<core::Nanos> rtts;
  for (const auto& raw : items) {
    if (raw.empty()) {
      return {
          std::nullopt,
          fmt::format("'{}' has an empty item: give RTTs separated by commas (0,2,4,8ms)", text)};
    }
    const bool bare = raw.find_first_not_of("0123456789.") == std::string::npos;
    const auto rtt = core::parse_duration(bare && raw != "0" ? raw + unit : raw);
    if (!rtt) {
      return {std::nullopt, fmt::format("'{}': {}", raw, rtt.error)};
    }
    rtts.push_back(*rtt);
  }
  return {std::move(rtts), ""};
}

std::string validate(const SweepRequest& request) {
  const auto& s = request.settings;
  if (s.rate_bps == 0) return "--rate is required (e.g. --rate 1gbit)";
  if (s.rtts.empty()) return "--rtt: give at least one RTT (e.g. --rtt 0,2,4,8,16,32,64,128ms)";
  if (s.rtts.size() > 64) return "--rtt: at most 64 RTTs";
  for (const auto rtt : s.rtts) {
    if (rtt < core::Nanos{0} || rtt > core::Nanos{10s}) {
      return fmt::format("--rtt: {} is outside 0 to 10 s", core::format_duration(rtt));
    }
  }
  if (s.profiles.empty()) return "--profile: give default, tuned or both";
  for (const auto& profile : s.profiles) {
    if (profile != "default" && profile != "tuned") {
      return fmt::format("--profile: unknown profile '{}' (profiles: default, tuned)", profile);
    }
    if (std::count(s.profiles.begin(), s.profiles.end(), profile) > 1) {
      return fmt::format("--profile: '{}' is listed twice", profile);
    }
  }
  measure::BenchConfig config;
  config.streams = s.streams;
  config.duration = s.duration;
  config.omit = s.omit;
  if (auto error = measure::validate(config); !error.empty()) return error;
  if (s.window_bytes && (*s.window_bytes < 4096 || *s.window_bytes > (1ULL << 31))) {
    return "--window: between 4 KiB and 2 GiB";
  }
  return "";
}

measure::SweepResult run_sweep(const SweepRequest& request) {
  measure::SweepResult result;
  result.settings = request.settings;
  result.settings.kernel = kernel_release();
  const auto& s = result.settings;
  for (const auto& profile : s.profiles) result.profiles.push_back({profile, {}, {}});
  std::random_device entropy;
  const auto cell_time = s.omit + s.duration;
  const std::size_t total = s.rtts.size() * s.profiles.size();
  std::size_t done = 0;

  try {
    for (const auto rtt : s.rtts) {
      if (readable(request.interrupt_fd)) {
        result.interrupted = true;
        break;
      }
      const std::uint64_t seed = (std::uint64_t{entropy()} << 32) | entropy();
      UpRequest up;
      up.lab = parse_lab_definition(lab_text(request.lab_name, s, rtt), "bench sweep",
                                    request.lab_name, seed);
      up.spin = request.spin;
      SweepLab lab(lab_up(up));
      const Site client = site_of(lab.state(), kClientSite);
      const Site server = site_of(lab.state(), kServerSite);
      if (s.window_bytes) {
        cap_buffers(client.netns, *s.window_bytes);
        cap_buffers(server.netns, *s.window_bytes);
      }
      for (std::size_t p = 0; p < s.profiles.size(); ++p) {
        if (readable(request.interrupt_fd)) {
          result.interrupted = true;
          break;
        }
        const std::string& profile = s.profiles[p];
        measure::SweepCell cell;
        cell.profile = profile;
        cell.rtt = rtt;
        const auto client_request = tune_request(s, rtt, client, server);
        const auto server_request = tune_request(s, rtt, server, client);
        try {
          if (profile == "tuned") {
            // Exactly what `longhaul tune --rate R --rtt X --netns SITE --apply` does, per site.
            for (const auto* site_request : {&client_request, &server_request}) {
              const auto rows = tune::recommend(tune::inspect(*site_request), *site_request);
              lab.tuned(*site_request);
              const auto applied = tune::apply(rows, *site_request);
              {
                // The profile's summary: every distinct change over the RTTs.
                auto& info = result.profiles[p];
                for (const auto& change : applied.changed) {
                  const std::string line = describe_change(change);
                  if (std::find(info.applied.begin(), info.applied.end(), line) ==
                      info.applied.end()) {
                    info.applied.push_back(line);
                  }
                }
                for (const auto& refusal : applied.refused) {
                  const std::string line = fmt::format("{}: {}", refusal.setting, refusal.reason);
                  if (std::find(info.refused.begin(), info.refused.end(), line) ==
                      info.refused.end()) {
                    info.refused.push_back(line);
                  }
                }
              }
            }
          }
          // The model from what the sites now allow.
          const auto client_settings = tune::inspect(client_request);
          const auto server_settings = tune::inspect(server_request);
          cell.window = tune::window_limits(server_settings, client_settings);
          cell.congestion = client_settings.sysctl("net.ipv4.tcp_congestion_control").value_or("");
          const auto path = tune::analyse_path(client_settings, client_request);
          tune::ThroughputModelInput model;
          model.rate_bps = s.rate_bps;
          model.rtt = rtt;
          model.streams = s.streams;
          model.mss_bytes = path.mss_bytes;
          const std::uint32_t mtu = client_settings.link ? client_settings.link->mtu : 1500;
          model.wire_bytes_per_segment = mtu + kFrameBytesBeyondMtu;
          model.window_bytes = cell.window.window_bytes();
          model.loss = s.loss;
          model.loss_based = cell.congestion != "bbr";
          model.initcwnd = path.initcwnd;
          cell.prediction = tune::predict_throughput(model);

          measure::BenchConfig config;
          config.streams = s.streams;
          config.duration = s.duration;
          config.omit = s.omit;
          // The time to fill is then "90 % of the model reached".
          config.path_rate_bps = static_cast<std::uint64_t>(cell.prediction.predicted_bps);
          config.seed = (std::uint64_t{entropy()} << 32) | entropy();
          const std::string what = fmt::format("bench sweep {}/{}: {} at {}", done + 1, total,
                                               profile, core::format_duration(rtt));
          SweepObserver observer([&](const measure::ProgressState& state) {
            if (!request.on_progress) return;
            measure::ProgressState overall = state;
            overall.what = what;
            overall.elapsed = cell_time * static_cast<core::Nanos::rep>(done) + state.elapsed;
            overall.planned = cell_time * static_cast<core::Nanos::rep>(total);
            overall.bytes = 0;
            overall.planned_bytes.reset();
            request.on_progress(overall);
          });
          const auto bench = run_test(client, server, config, request, observer);
          cell.observation.counted_from = s.omit;
          cell.observation.duration = s.duration;
          if (!bench.directions.empty()) {
            const auto& direction = bench.directions.front();
            if (direction.received) cell.measured_bps = direction.received->bits_per_second;
            if (direction.sent) {
              cell.sent_bps = direction.sent->bits_per_second;
              cell.observation.retransmits = direction.sent->retransmits;
              cell.observation.mean_peer_window_bytes = direction.sent->mean_snd_wnd_bytes;
              cell.mean_rtt_ms = direction.sent->mean_rtt_us / 1000.0;
              if (direction.sent->limited_by) {
                cell.observation.dominant_limit =
                    std::string(measure::limit_name(direction.sent->limited_by->dominant));
              }
            }
            if (direction.fill.reached) {
              cell.observation.fill = direction.fill.at;
              cell.observation.fill_interval_start = direction.fill.interval_start;
            }
          }
          if (bench.error) {
            cell.error = *bench.error;
            cell.measured_bps.reset();
          }
        } catch (const std::exception& error) {
          cell.error = error.what();
        }
        result.cells.push_back(std::move(cell));
        ++done;
        if (readable(request.interrupt_fd)) {
          result.interrupted = true;
          break;
        }
      }
      if (result.interrupted) break;
    }
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  measure::explain_sweep(result);
  return result;
}

}  // namespace longhaul::lab
