#include "tune/saved_state.hh"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace longhaul::tune {

namespace {

using nlohmann::json;

json optional_text(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

SavedChange::Kind kind_from_string(const std::string& text) {
  if (text == "sysctl") return SavedChange::Kind::sysctl;
  if (text == "link") return SavedChange::Kind::link;
  if (text == "route") return SavedChange::Kind::route;
  throw std::runtime_error("unknown change kind '" + text + "'");
}

}  // namespace

std::string_view to_string(SavedChange::Kind kind) {
  switch (kind) {
    case SavedChange::Kind::sysctl:
      return "sysctl";
    case SavedChange::Kind::link:
      return "link";
    case SavedChange::Kind::route:
      return "route";
  }
  return "?";
}

std::string state_to_json(const SavedState& state) {
  json changes = json::array();
  for (const auto& change : state.changes) {
    json entry{{"kind", to_string(change.kind)},
               {"setting", change.setting},
               {"object", change.object},
               {"key", change.key},
               {"previous", optional_text(change.previous)},
               {"applied", change.applied}};
    if (change.route) {
      const RouteKey& key = *change.route;
      entry["route"] =
          json{{"family", key.family}, {"table", key.table}, {"destination", key.destination},
               {"source", key.source}, {"tos", key.tos},     {"priority", key.priority}};
    }
    changes.push_back(std::move(entry));
  }
  const json document{
      {"schema", kStateSchema},
      {"target", state.target == TargetKind::host ? "host" : "netns"},
      {"netns", state.netns.empty() ? json(nullptr) : json(state.netns)},
      {"netns_dev", state.netns_dev},
      {"netns_inode", state.netns_inode},
      {"kernel", state.kernel},
      {"created", state.created},
      {"changes", std::move(changes)},
  };
  return document.dump(2) + "\n";
}

SavedState state_from_json(const std::string& text) {
  try {
    const json document = json::parse(text);
    if (document.value("schema", "") != kStateSchema) {
      throw std::runtime_error("not a " + std::string(kStateSchema) + " file");
    }
    SavedState state;
    const std::string target = document.at("target").get<std::string>();
    if (target != "host" && target != "netns") throw std::runtime_error("bad target " + target);
    state.target = target == "host" ? TargetKind::host : TargetKind::netns;
    if (!document.at("netns").is_null()) state.netns = document.at("netns").get<std::string>();
    state.netns_dev = document.at("netns_dev").get<std::uint64_t>();
    state.netns_inode = document.at("netns_inode").get<std::uint64_t>();
    state.kernel = document.at("kernel").get<std::string>();
    state.created = document.at("created").get<std::string>();
    for (const auto& entry : document.at("changes")) {
      SavedChange change;
      change.kind = kind_from_string(entry.at("kind").get<std::string>());
      change.setting = entry.at("setting").get<std::string>();
      change.object = entry.at("object").get<std::string>();
      change.key = entry.at("key").get<std::string>();
      if (!entry.at("previous").is_null())
        change.previous = entry.at("previous").get<std::string>();
      change.applied = entry.at("applied").get<std::string>();
      if (entry.contains("route")) {
        const json& route = entry.at("route");
        change.route = RouteKey{route.at("family").get<int>(),
                                route.at("table").get<std::uint32_t>(),
                                route.at("destination").get<std::string>(),
                                route.at("source").get<std::string>(),
                                route.at("tos").get<std::uint32_t>(),
                                route.at("priority").get<std::uint32_t>()};
      }
      if (change.kind == SavedChange::Kind::route && !change.route) {
        throw std::runtime_error("route change without its route");
      }
      state.changes.push_back(std::move(change));
    }
    return state;
  } catch (const json::exception& error) {
    throw std::runtime_error(std::string("malformed state file: ") + error.what());
  }
}

bool same_target(const SavedChange& a, const SavedChange& b) {
  return a.kind == b.kind && a.setting == b.setting && a.key == b.key && a.route == b.route;
}

void merge_changes(SavedState& state, const std::vector<SavedChange>& changes) {
  for (const auto& change : changes) {
    bool merged = false;
    for (auto& saved : state.changes) {
      if (same_target(saved, change)) {
        saved.applied = change.applied;  // keep the first `previous`: the original value
        merged = true;
        break;
      }
    }
    if (!merged) state.changes.push_back(change);
  }
}

std::string state_file_name(TargetKind target, const std::string& netns) {
  return target == TargetKind::host ? std::string("host.json") : "netns-" + netns + ".json";
}

}  // namespace longhaul::tune
