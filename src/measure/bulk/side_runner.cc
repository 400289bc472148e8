#include "measure/bulk/side_runner.hh"

#include <fmt/format.h>

#include <algorithm>

#include "measure/bulk/tcp_info.hh"

namespace longhaul::measure {

namespace {
constexpr std::size_t kPayloadBytes = 128 * 1024;
}

SideRunner::SideRunner(Side side, const BenchConfig& config, std::vector<Stream> streams)
    : side_(side), config_(config) {
  const auto payload = make_payload(config.seed, kPayloadBytes);
  for (auto& stream : streams) {
    Entry entry;
    entry.who.id = stream.id;
    entry.who.side = side;
    entry.who.direction = stream.direction;
    const Role role = role_of(side, stream.direction);
    if (role == Role::sender && config.pacing_rate_bps) {
      entry.who.pacing_cap_bps = *config.pacing_rate_bps;
    }
    if (role == Role::sender) entry.who.sndbuf_set_bytes = config.sndbuf_bytes;
    StreamWorker::Plan plan;
    plan.role = role;
    if (config.bytes) {
      // Split the direction's byte count evenly; the first streams take the remainder.
      const std::uint32_t index_in_direction = (stream.id - 1) % config.streams;
      plan.byte_limit = *config.bytes / config.streams +
                        (index_in_direction < *config.bytes % config.streams ? 1 : 0);
    }
    entry.worker = std::make_unique<StreamWorker>(std::move(stream.fd), plan, payload);
    entries_.push_back(std::move(entry));
  }
}

SideRunner::~SideRunner() {
  abort();
}

void SideRunner::start(SteadyTime t0) {
  t0_ = t0;
  last_boundary_ = Nanos{0};
  boundary_ = interval_end(Nanos{0}, config_.interval, config_.omit);
  const SteadyTime send_until =
      t0 + std::chrono::duration_cast<SteadyClock::duration>(send_window(config_));
  for (auto& entry : entries_) {
    entry.last = {Nanos{0}, 0, read_tcp_info(entry.worker->fd())};
    entry.worker->set_send_until(send_until);
    entry.worker->start();
  }
  started_ = true;
}

SteadyTime SideRunner::next_sample() const {
  if (finished()) return SteadyTime::max();
  const Nanos next = deferring_ ? boundary_ + config_.interval : boundary_;
  return t0_ + std::chrono::duration_cast<SteadyClock::duration>(next);
}

StreamSnapshot SideRunner::live_snapshot(const Entry& entry, SteadyTime now) const {
  return {std::chrono::duration_cast<Nanos>(now - t0_), entry.worker->app_bytes(),
          read_tcp_info(entry.worker->fd())};
}

StreamSnapshot SideRunner::final_snapshot(const Entry& entry) const {
  StreamSnapshot snapshot{std::chrono::duration_cast<Nanos>(entry.worker->finished_at() - t0_),
                          entry.worker->app_bytes(), entry.worker->final_info()};
  // A sender that ended normally had its FIN acknowledged, and the FIN takes one
  // sequence number that tcpi_bytes_acked counts; it is not payload.
  if (entry.worker->role() == Role::sender && entry.worker->error().empty() && snapshot.tcp &&
      snapshot.tcp->bytes_acked > entry.last.tcp.value_or(TcpInfoSample{}).bytes_acked) {
    --snapshot.tcp->bytes_acked;
  }
  return snapshot;
}

std::optional<SideInterval> SideRunner::poll(SteadyTime now) {
  if (!started_ || finished()) return std::nullopt;
  const Nanos elapsed = std::chrono::duration_cast<Nanos>(now - t0_);
  const bool all_done = std::all_of(entries_.begin(), entries_.end(), [](const Entry& e) {
    return e.closed_out || e.worker->done();
  });
  bool due = elapsed >= boundary_;
  // When the senders' time is up, the streams finish within a round trip or a send
  // buffer's drain: hold the interval open (by at most one more interval) so that tail
  // joins it instead of becoming a sliver of an interval of its own.
  deferring_ =
      due && !all_done && elapsed >= send_window(config_) && elapsed < boundary_ + config_.interval;
  if (deferring_) due = false;
  if (!due && !all_done) return std::nullopt;
  // A poll a whole interval late (a deferral that ran out, a stalled process) ends the
  // interval where the samples were really taken rather than at the missed boundary.
  const bool late = due && elapsed >= boundary_ + config_.interval;

  SideInterval out;
  out.index = next_index_++;
  out.start = last_boundary_;
  out.omitted = last_boundary_ < config_.omit;
  Nanos latest = last_boundary_;
  for (auto& entry : entries_) {
    if (entry.closed_out) continue;
    const bool done = entry.worker->done();
    const StreamSnapshot snapshot = done ? final_snapshot(entry) : live_snapshot(entry, now);
    if (snapshot.at > entry.last.at) {
      out.streams.push_back(compute_interval(entry.who, entry.last, snapshot, out.omitted));
      entry.last = snapshot;
      latest = std::max(latest, snapshot.at);
    }
    entry.closed_out = done;
  }
  out.end = (due && !late && !finished()) ? boundary_ : std::max(latest, out.start);
  last_boundary_ = out.end;
  if (due) boundary_ = interval_end(std::max(elapsed, boundary_), config_.interval, config_.omit);
  return out;
}

bool SideRunner::finished() const {
  return started_ &&
         std::all_of(entries_.begin(), entries_.end(), [](const Entry& e) { return e.closed_out; });
}

void SideRunner::abort() noexcept {
  for (auto& entry : entries_) entry.worker->request_stop();
  for (auto& entry : entries_) entry.worker->join();
}

std::string SideRunner::first_error() const {
  for (const auto& entry : entries_) {
    if (entry.worker->done() && !entry.worker->error().empty()) {
      return fmt::format("stream {}: {}", entry.who.id, entry.worker->error());
    }
  }
  return {};
}

ProgressState SideRunner::progress(SteadyTime now, std::string what) const {
  ProgressState state;
  state.what = std::move(what);
  state.elapsed = started_ ? std::chrono::duration_cast<Nanos>(now - t0_) : Nanos{0};
  if (config_.bytes) {
    state.planned_bytes = *config_.bytes * directions(config_).size();
  } else {
    state.planned = config_.omit + config_.duration;
  }
  for (const auto& entry : entries_) state.bytes += entry.worker->app_bytes();
  return state;
}

}  // namespace longhaul::measure
