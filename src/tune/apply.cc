#include "tune/apply.hh"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <ctime>
#include <optional>
#include <stdexcept>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/netlink.hh"
#include "io/netns.hh"
#include "io/route_query.hh"
#include "io/sysctl.hh"
#include "io/text_file.hh"
#include "tune/inspect.hh"

namespace longhaul::tune {

namespace {

std::string target_text(const TuneRequest& request) {
  return request.target == TargetKind::host ? std::string("the host")
                                            : "network namespace " + request.netns;
}

// The target's namespace (none for the host) and a way to run code inside it.
class Target {
 public:
  explicit Target(const TuneRequest& request) {
    if (request.target == TargetKind::netns) netns_ = io::Netns::open(request.netns);
  }
  template <class F>
  auto run(F&& fn) {
    if (netns_) return io::run_in_netns(netns_->fd(), std::forward<F>(fn));
    return fn();
  }

 private:
  std::optional<io::Netns> netns_;
};

void make_directory(const char* path) {
  if (::mkdir(path, 0755) != 0 && errno != EEXIST) io::throw_errno("mkdir", path);
}

// Serialises appliers and reverters of every target (they are quick).
class StateLock {
 public:
  StateLock() {
    make_directory("/run/longhaul");
    make_directory(kTuneStateDir);
    const std::string path = std::string(kTuneStateDir) + "/.lock";
    fd_ = io::Fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd_.valid()) io::throw_errno("open", path);
    while (::flock(fd_.get(), LOCK_EX) != 0) {
      if (errno != EINTR) io::throw_errno("flock", path);
    }
  }

 private:
  io::Fd fd_;
};

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  const io::Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) io::throw_errno("open", temporary);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t written = ::write(fd.get(), text.data() + done, text.size() - done);
    if (written < 0) {
      if (errno == EINTR) continue;
      io::throw_errno("write", temporary);
    }
    done += static_cast<std::size_t>(written);
  }
  if (::fsync(fd.get()) != 0) io::throw_errno("fsync", temporary);
  if (::rename(temporary.c_str(), path.c_str()) != 0) io::throw_errno("rename", path);
}

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) io::throw_errno("unlink", path);
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  ::gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

std::pair<std::uint64_t, std::uint64_t> netns_identity(const std::string& name) {
  const std::string path = std::string(io::kNetnsRunDir) + "/" + name;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) io::throw_errno("stat", path);
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

std::uint16_t metric_type(const std::string& setting) {
  if (setting == "initcwnd") return RTAX_INITCWND;
  if (setting == "initrwnd") return RTAX_INITRWND;
  throw std::logic_error("not a route metric: " + setting);
}

std::uint32_t parse_u32(const std::string& text, const std::string& what) {
  std::uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw std::runtime_error("bad value '" + text + "' for " + what);
  }
  return value;
}

std::string describe_route(const RouteKey& key) {
  std::string text = key.destination;
  if (key.table != RT_TABLE_MAIN) text += " table " + std::to_string(key.table);
  if (key.priority != 0) text += " metric " + std::to_string(key.priority);
  return text;
}

// The value `change` refers to, as it is now (nullopt: a route metric at the kernel default).
std::optional<std::string> current_value(const SavedChange& change, io::Netlink& netlink) {
  switch (change.kind) {
    case SavedChange::Kind::sysctl:
      return io::read_sysctl(change.key);
    case SavedChange::Kind::link:
      return std::to_string(netlink.link_info(netlink.link_index(change.key)).txqueuelen);
    case SavedChange::Kind::route: {
      const auto route = find_route(netlink, *change.route);
      if (!route) {
        throw std::runtime_error("route " + describe_route(*change.route) + " no longer exists");
      }
      const auto value = route->metric(metric_type(change.setting));
      return value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt;
    }
  }
  return std::nullopt;
}

// Sets the value `change` refers to; nullopt removes a route metric (back to the default).
void write_value(const SavedChange& change, const std::optional<std::string>& value,
                 io::Netlink& netlink) {
  switch (change.kind) {
    case SavedChange::Kind::sysctl:
      if (value) io::write_sysctl(change.key, *value);
      return;
    case SavedChange::Kind::link:
      if (value) netlink.set_txqueuelen(change.key, parse_u32(*value, change.setting));
      return;
    case SavedChange::Kind::route: {
      auto route = find_route(netlink, *change.route);
      if (!route) {
        throw std::runtime_error("route " + describe_route(*change.route) + " no longer exists");
      }
      const auto type = metric_type(change.setting);
      const std::optional<std::uint32_t> metric =
          value ? std::optional<std::uint32_t>(parse_u32(*value, change.setting)) : std::nullopt;
      if (route->metric(type) == metric) return;
      route->set_metric(type, metric);
      netlink.replace_route(*route);
      return;
    }
  }
}

bool same_value(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a || !b) return !a && !b;
  return normalize_value(*a) == normalize_value(*b);
}

struct Plan {
  std::vector<SavedChange> changes;
  std::vector<Refusal> refused;
};

// Reads, inside the target, the current value of everything to change.
Plan plan_changes(const std::vector<const Recommendation*>& rows, const TuneRequest& request) {
  Plan plan;
  io::Netlink netlink = io::Netlink::open();
  std::optional<io::RouteInfo> route;
  bool route_looked_up = false;
  for (const Recommendation* row : rows) {
    SavedChange change;
    change.setting = row->setting;
    change.object = row->object;
    change.applied = row->recommended;
    switch (row->scope) {
      case Scope::global:
      case Scope::netns:
        change.kind = SavedChange::Kind::sysctl;
        change.key = sysctl_relative_path(row->setting);
        change.previous = io::read_sysctl(change.key);
        break;
      case Scope::interface:
        change.kind = SavedChange::Kind::link;
        change.key = row->object.starts_with("dev ") ? row->object.substr(4) : row->object;
        change.previous = current_value(change, netlink);
        break;
      case Scope::route: {
        if (!route_looked_up) {
          route = select_route(netlink, request.peer);
          route_looked_up = true;
        }
        if (!route || !route->unsupported.empty()) {
          plan.refused.push_back(
              {row->setting, row->object,
               route ? "cannot change this route: " + route->unsupported : "the route is gone"});
          continue;
        }
        change.kind = SavedChange::Kind::route;
        change.route = route_key(*route);
        const auto value = route->metric(metric_type(row->setting));
        if (value) change.previous = std::to_string(*value);
        break;
      }
    }
    if (!same_value(change.previous, change.applied)) plan.changes.push_back(std::move(change));
  }
  return plan;
}

}  // namespace

ApplyResult apply(const std::vector<Recommendation>& rows, const TuneRequest& request) {
  ApplyResult result;
  std::vector<const Recommendation*> todo;
  for (const auto& row : rows) {
    if (row.action != Action::set) continue;
    const std::string reason = refusal_reason(row, request.target);
    if (reason.empty()) {
      todo.push_back(&row);
    } else {
      result.refused.push_back({row.setting, row.object, reason});
    }
  }
  if (todo.empty()) return result;

  const StateLock lock;
  Target target(request);
  Plan plan = target.run([&] { return plan_changes(todo, request); });
  result.refused.insert(result.refused.end(), plan.refused.begin(), plan.refused.end());
  if (plan.changes.empty()) return result;

  // Save before writing anything: a crash half-way still leaves what revert needs.
  const std::string path =
      std::string(kTuneStateDir) + "/" + state_file_name(request.target, request.netns);
  const std::optional<std::string> old_text = io::read_text_file(path);
  SavedState state;
  state.target = request.target;
  state.netns = request.netns;
  if (request.target == TargetKind::netns) {
    std::tie(state.netns_dev, state.netns_inode) = netns_identity(request.netns);
  }
  if (old_text) {
    const SavedState old = state_from_json(*old_text);
    // State left from a namespace since deleted and re-created under the same name describes
    // values that no longer exist anywhere: start afresh.
    if (old.netns_dev == state.netns_dev && old.netns_inode == state.netns_inode) state = old;
  }
  if (state.created.empty()) state.created = utc_now();
  ::utsname names{};
  state.kernel = ::uname(&names) == 0 ? names.release : "";
  merge_changes(state, plan.changes);
  write_file_atomically(path, state_to_json(state));

  try {
    target.run([&] {
      io::Netlink netlink = io::Netlink::open();
      std::size_t done = 0;
      try {
        for (; done < plan.changes.size(); ++done) {
          write_value(plan.changes[done], plan.changes[done].applied, netlink);
        }
      } catch (...) {
        // Put back what this call changed, newest first; the original error is what matters.
        while (done-- > 0) {
          try {
            write_value(plan.changes[done], plan.changes[done].previous, netlink);
          } catch (...) {
          }
        }
        throw;
      }
    });
  } catch (...) {
    if (old_text) {
      write_file_atomically(path, *old_text);
    } else {
      remove_file(path);
    }
    throw;
  }
  result.changed = std::move(plan.changes);
  result.state_path = path;
  return result;
}

RevertResult revert(const TuneRequest& request) {
  RevertResult result;
  const StateLock lock;
  const std::string path =
      std::string(kTuneStateDir) + "/" + state_file_name(request.target, request.netns);
  const std::optional<std::string> text = io::read_text_file(path);
  if (!text) {
    result.message = "nothing to revert: no saved state for " + target_text(request);
    return result;
  }
  result.state_path = path;
  SavedState state = state_from_json(*text);
  if (request.target == TargetKind::netns) {
    if (!io::netns_exists(request.netns)) {
      remove_file(path);
      result.message = "network namespace " + request.netns +
                       " no longer exists: its settings went with it (saved state removed)";
      return result;
    }
    if (netns_identity(request.netns) != std::pair(state.netns_dev, state.netns_inode)) {
      remove_file(path);
      result.message = "network namespace " + request.netns +
                       " was re-created since the apply: nothing of it to restore (saved state "
                       "removed)";
      return result;
    }
  }
  std::vector<SavedChange> remaining;
  Target target(request);
  target.run([&] {
    io::Netlink netlink = io::Netlink::open();
    for (auto it = state.changes.rbegin(); it != state.changes.rend(); ++it) {
      const SavedChange& change = *it;
      const std::string name =
          change.object.empty() ? change.setting : change.setting + " (" + change.object + ")";
      try {
        write_value(change, change.previous, netlink);
        const auto now = current_value(change, netlink);
        if (!same_value(now, change.previous)) {
          throw std::runtime_error("reads back as '" + now.value_or("default") + "'");
        }
        result.restored.push_back(change);
      } catch (const std::exception& error) {
        result.problems.push_back(name + ": " + error.what());
        remaining.insert(remaining.begin(), change);
      }
    }
  });
  if (remaining.empty()) {
    remove_file(path);
  } else {
    state.changes = std::move(remaining);
    write_file_atomically(path, state_to_json(state));
  }
  return result;
}

void forget_netns_state(const std::string& netns) noexcept {
  const std::string path =
      std::string(kTuneStateDir) + "/" + state_file_name(TargetKind::netns, netns);
  ::unlink(path.c_str());  // absent (never tuned) is the common case
}

}  // namespace longhaul::tune
