#include "tune/settings.hh"

#include <charconv>

namespace longhaul::tune {

namespace {

// Reads a decimal number from the front of `text`; advances it. nullopt if none.
std::optional<unsigned> take_number(std::string_view& text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

}  // namespace

std::optional<KernelVersion> KernelVersion::parse(std::string_view release) {
  KernelVersion version;
  version.release = std::string(release);
  std::string_view rest = release;
  const auto major = take_number(rest);
  if (!major || rest.empty() || rest.front() != '.') return std::nullopt;
  rest.remove_prefix(1);
  const auto minor = take_number(rest);
  if (!minor) return std::nullopt;
  version.major = *major;
  version.minor = *minor;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    if (const auto patch = take_number(rest)) version.patch = *patch;
  }
  return version;
}

std::string_view to_string(Scope scope) {
  switch (scope) {
    case Scope::global:
      return "global";
    case Scope::netns:
      return "netns";
    case Scope::interface:
      return "interface";
    case Scope::route:
      return "route";
  }
  return "?";
}

std::optional<std::string> HostSettings::sysctl(const std::string& name) const {
  const auto it = sysctls.find(name);
  if (it == sysctls.end()) return std::nullopt;
  return it->second;
}

std::optional<std::vector<std::int64_t>> HostSettings::integers(const std::string& name) const {
  const auto value = sysctl(name);
  if (!value) return std::nullopt;
  std::vector<std::int64_t> numbers;
  std::string_view rest = *value;
  while (!rest.empty()) {
    const std::size_t start = rest.find_first_not_of(" \t\n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
    if (error != std::errc()) return std::nullopt;
    numbers.push_back(number);
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    if (!rest.empty() && rest.find_first_of(" \t\n") != 0) return std::nullopt;
  }
  if (numbers.empty()) return std::nullopt;
  return numbers;
}

std::optional<std::int64_t> HostSettings::integer(const std::string& name) const {
  const auto numbers = integers(name);
  if (!numbers || numbers->size() != 1) return std::nullopt;
  return numbers->front();
}

std::string sysctl_relative_path(const std::string& name) {
  std::string path = name;
  for (char& c : path) {
    if (c == '.') {
      c = '/';
    } else if (c == '/') {
      c = '.';
    }
  }
  return path;
}

std::string sysctl_name(const std::string& relative_path) {
  return sysctl_relative_path(relative_path);  // the swap is its own inverse
}

std::string normalize_value(std::string_view value) {
  std::string out;
  bool blank = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t' || c == '\n') {
      blank = !out.empty();
    } else {
      if (blank) out += ' ';
      blank = false;
      out += c;
    }
  }
  return out;
}

}  // namespace longhaul::tune
