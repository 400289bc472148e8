#include "link/schema_docs.hh"

#include <fmt/format.h>

#include "link/schema.hh"

namespace longhaul::link {

namespace {

/// "--rate-up RATE, --rate-down RATE" style list of a parameter's per-direction flags.
std::string flag_with_value(std::string_view name, const Param& p) {
  return p.metavar.empty() ? fmt::format("--{}", name) : fmt::format("--{} {}", name, p.metavar);
}

std::string_view or_dash(std::string_view text) {
  return text.empty() ? "—" : text;
}

/// Escapes what markdown tables and roff treat specially in help texts.
std::string markdown_cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|')
      out += "\\|";
    else
      out += c;
  }
  return out;
}

std::string roff(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '-' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string type_words(const Param& p) {
  std::string words(value_type_name(p.type));
  if (!p.example.empty()) words += fmt::format(", e.g. `{}`", p.example);
  return words;
}

}  // namespace

nlohmann::json params_json() {
  nlohmann::json list = nlohmann::json::array();
  for (const Param& p : link_params()) {
    nlohmann::json flags = nlohmann::json::array();
    for (const auto& name : names_of(p)) flags.push_back("--" + name);
    const auto optional_text = [](std::string_view text) -> nlohmann::json {
      return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::string(text));
    };
    list.push_back({{"key", p.key},
                    {"names", names_of(p)},
                    {"flags", flags},
                    {"per_direction", p.variants != Variants::shared},
                    {"shared", p.variants != Variants::directions},
                    {"type", value_type_name(p.type)},
                    {"metavar", optional_text(p.metavar)},
                    {"help", p.help},
                    {"example", optional_text(p.example)},
                    {"default", p.default_text},
                    {"netem", optional_text(p.netem)},
                    {"live", p.live},
                    {"json_key", p.json_key},
                    {"needs", optional_text(p.needs)},
                    {"excludes", optional_text(p.excludes)}});
  }
  return {{"schema", "longhaul.params/1"}, {"params", list}};
}

std::string params_text() {
  std::string text = fmt::format("{:<26} {:<22} {:<14} {:<6} {}\n", "flag (topology key)", "unit",
                                 "default", "live", "meaning");
  for (const Param& p : link_params()) {
    const auto names = names_of(p);
    for (const auto& name : names) {
      const bool directional = name != p.key;
      const std::string meaning =
          directional ? fmt::format("{} of one direction", p.per_direction) : std::string(p.help);
      text += fmt::format("{:<26} {:<22} {:<14} {:<6} {}\n", flag_with_value(name, p),
                          value_type_name(p.type),
                          directional && p.text != nullptr ? fmt::format("--{}", p.key)
                                                           : std::string(p.default_text),
                          p.live ? "yes" : "no", meaning);
    }
  }
  text +=
      "\nTopology files take the same names without \"--\" ([defaults] and [[lane]]);\n"
      "live parameters can change while the link runs (--at, --schedule).\n";
  return text;
}

std::string run_flags_markdown() {
  std::string text = "| flag | meaning | unit / form | default | live |\n|---|---|---|---|---|\n";
  for (const Param& p : link_params()) {
    const char* live = p.live ? "yes" : "no";
    if (p.variants != Variants::directions) {
      text += fmt::format("| `{}` | {} | {} | {} | {} |\n", flag_with_value(p.key, p),
                          markdown_cell(p.help), type_words(p), p.default_text, live);
    }
    if (p.variants != Variants::shared) {
      const std::string up = fmt::format("{}-up", p.key);
      const std::string down = fmt::format("{}-down", p.key);
      text += fmt::format("| `{}`, `{}` | {} of one direction | {} | {} | {} |\n",
                          flag_with_value(up, p), flag_with_value(down, p), p.per_direction,
                          p.variants == Variants::directions ? type_words(p) : "as above",
                          p.variants == Variants::directions ? std::string(p.default_text)
                                                             : fmt::format("`--{}`", p.key),
                          live);
    }
  }
  return text;
}

std::string topology_keys_markdown() {
  std::string text = "| key | value | meaning | default |\n|---|---|---|---|\n";
  for (const Param& p : link_params()) {
    std::string keys;
    for (const auto& name : names_of(p))
      keys += fmt::format("{}`{}`", keys.empty() ? "" : ", ", name);
    std::string value;
    switch (p.type) {
      case ValueType::flag:
        value = "true/false";
        break;
      case ValueType::outages:
      case ValueType::changes:
        value = fmt::format("text or a list of texts, e.g. `\"{}\"`", p.example);
        break;
      case ValueType::seed:
        value = "whole number";
        break;
      case ValueType::bytes:
        value = fmt::format("text or a whole number of bytes, e.g. `{}`", p.example);
        break;
      default:
        value = fmt::format("text ({}), e.g. `\"{}\"`", value_type_name(p.type), p.example);
    }
    text += fmt::format("| {} | {} | {} | {} |\n", keys, markdown_cell(value),
                        markdown_cell(p.help), or_dash(p.default_text));
  }
  return text;
}

std::string man_link_flags() {
  std::string text;
  for (const Param& p : link_params()) {
    std::string names;
    if (p.variants == Variants::shared) names = fmt::format("\\-\\-{}", roff(p.key));
    if (p.variants == Variants::shared_and_directions) {
      names = fmt::format("\\-\\-{}[\\-up|\\-down]", roff(p.key));
    }
    if (p.variants == Variants::directions)
      names = fmt::format("\\-\\-{}\\-up|\\-down", roff(p.key));
    text += ".TP\n";
    text += p.metavar.empty() ? fmt::format(".B {}\n", names)
                              : fmt::format(".BR {} \" \\fI{}\\fR\"\n", names, roff(p.metavar));
    text += fmt::format("{} (default: {}{}).\n", roff(p.help), roff(p.default_text),
                        p.live ? "; live" : "");
  }
  return text;
}

std::string replace_generated(std::string_view file_text, std::string_view name,
                              std::string_view body) {
  const std::string open_md = fmt::format("<!-- params:{} -->", name);
  const std::string open_roff = fmt::format(".\\\" params:{}", name);
  const bool roff_file = file_text.find(open_roff) != std::string_view::npos;
  const std::string open = roff_file ? open_roff : open_md;
  const std::string close = roff_file ? ".\\\" /params" : "<!-- /params -->";
  const auto start = file_text.find(open);
  if (start == std::string_view::npos) return "";
  const auto body_start = file_text.find('\n', start);
  if (body_start == std::string_view::npos) return "";
  const auto end = file_text.find(close, body_start);
  if (end == std::string_view::npos) return "";
  return fmt::format("{}{}{}", file_text.substr(0, body_start + 1), body, file_text.substr(end));
}

}  // namespace longhaul::link
