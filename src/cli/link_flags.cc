#include "cli/link_flags.hh"

#include <charconv>
#include <cstdint>
#include <optional>

#include "link/schema.hh"

namespace longhaul::cli {

namespace {

/// Replaces `from` with `to` throughout `text`.
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

/// Help texts are written for `run` ("command -> remote"); other commands name the two
/// directions their own way.
std::string help_for(std::string_view help, const DirectionWords& words) {
  std::string text = replace_all(std::string(help), "command -> remote", words.up);
  return replace_all(std::move(text), "remote -> command", words.down);
}

void text_option(CLI::App* app, const std::string& name, std::optional<std::string>& target,
                 const std::string& help, std::string_view metavar) {
  app->add_option_function<std::string>(
         name, [&target](const std::string& value) { target = value; }, help)
      ->type_name(std::string(metavar));
}

/// Declares one schema row's flags.
void add_param(CLI::App* app, const link::Param& param, link::LinkFlags& flags,
               const DirectionWords& words) {
  const std::string flag = "--" + std::string(param.key);
  std::string help = help_for(param.help, words);
  if (param.type == link::ValueType::changes) help += "; keys: " + link::live_keys_text();
  if (param.text != nullptr) text_option(app, flag, flags.*(param.text), help, param.metavar);
  if (param.text_up != nullptr) {
    text_option(app, flag + "-up", flags.*(param.text_up),
                help_for(std::string(param.per_direction) + " command -> remote", words),
                param.metavar);
    text_option(app, flag + "-down", flags.*(param.text_down),
                help_for(std::string(param.per_direction) + " remote -> command", words),
                param.metavar);
  }
  if (param.on != nullptr) app->add_flag(flag, flags.*(param.on), help);
  if (param.list != nullptr) {
    app->add_option(flag, flags.*(param.list), help)->type_name(std::string(param.metavar));
  }
  if (param.number != nullptr) {
    auto& target = flags.*(param.number);
    // Parsed here rather than by CLI11, which clamps 2^64 and wraps -1 without a word.
    app->add_option_function<std::string>(
           flag,
           [&target, flag](const std::string& text) {
             std::uint64_t value = 0;
             const char* end = text.data() + text.size();
             const auto result = std::from_chars(text.data(), end, value);
             if (text.empty() || result.ec != std::errc() || result.ptr != end) {
               throw CLI::ValidationError(
                   flag, text + " is not a whole number from 0 to 18446744073709551615");
             }
             target = value;
           },
           help)
        ->type_name(std::string(param.metavar));
  }
}

}  // namespace

void add_link_flags(CLI::App* app, link::LinkFlags& flags, const DirectionWords& words) {
  for (const link::Param& param : link::link_params()) add_param(app, param, flags, words);
}

}  // namespace longhaul::cli
