#include "link/link_flag_keys.hh"

#include <fmt/format.h>

#include "link/schema.hh"

namespace longhaul::link {

namespace {

const char* type_name(const LinkFlagValue& value) {
  switch (value.index()) {
    case 0:
      return "text";
    case 1:
      return "a whole number";
    case 2:
      return "a number";
    case 3:
      return "true/false";
    default:
      return "a list";
  }
}

std::string number_text(const LinkFlagValue& value) {
  if (const auto* whole = std::get_if<std::int64_t>(&value)) return std::to_string(*whole);
  if (const auto* real = std::get_if<double>(&value)) return fmt::format("{}", *real);
  return "";
}

/// The LinkFlags member a text-valued name sets.
std::optional<std::string> LinkFlags::*text_member(const ParamName& name) {
  switch (name.side) {
    case ParamName::Side::up:
      return name.param->text_up;
    case ParamName::Side::down:
      return name.param->text_down;
    case ParamName::Side::shared:
      break;
  }
  return name.param->text;
}

std::string example_of(const Param& param) {
  return param.type == ValueType::bytes ? std::string(param.example)
                                        : fmt::format("\"{}\"", param.example);
}

}  // namespace

std::optional<std::string> set_link_flag(LinkFlags& flags, std::string_view key,
                                         const LinkFlagValue& value) {
  const auto name = find_param(key);
  if (!name) {
    std::string known;
    for (const auto& each : link_flag_keys()) known += (known.empty() ? "" : ", ") + each;
    return fmt::format("unknown key '{}'; link keys are: {}", key, known);
  }
  const Param& param = *name->param;
  if (auto member = text_member(*name); member != nullptr) {
    if (const auto* text = std::get_if<std::string>(&value)) {
      flags.*member = *text;
      return std::nullopt;
    }
    // A bare number is unambiguous only where the grammar makes a bare integer bytes (mtu,
    // overhead); elsewhere (32 what? ms? s?) it is refused with the unit to add.
    if (const auto* whole = std::get_if<std::int64_t>(&value);
        whole != nullptr && *whole >= 0 && param.type == ValueType::bytes) {
      flags.*member = std::to_string(*whole);
      return std::nullopt;
    }
    if (value.index() == 1 || value.index() == 2) {
      return fmt::format("{} = {} has no unit: write it as text with its unit, e.g. {} = {}", key,
                         number_text(value), key, example_of(param));
    }
    return fmt::format("{} must be text, e.g. {} = {} (got {})", key, key, example_of(param),
                       type_name(value));
  }
  if (param.on != nullptr) {
    if (const auto* on = std::get_if<bool>(&value)) {
      flags.*(param.on) = *on;
      return std::nullopt;
    }
    return fmt::format("{} must be true or false (got {})", key, type_name(value));
  }
  if (param.list != nullptr) {
    auto& list = flags.*(param.list);
    if (const auto* one = std::get_if<std::string>(&value)) {
      list.push_back(*one);
      return std::nullopt;
    }
    if (const auto* many = std::get_if<std::vector<std::string>>(&value)) {
      list.insert(list.end(), many->begin(), many->end());
      return std::nullopt;
    }
    return fmt::format("{} must be text like \"{}\" or a list of them (got {})", key, param.example,
                       type_name(value));
  }
  if (const auto* whole = std::get_if<std::int64_t>(&value); whole != nullptr && *whole >= 0) {
    flags.*(param.number) = static_cast<std::uint64_t>(*whole);
    return std::nullopt;
  }
  return fmt::format("{} must be a whole number >= 0", key);
}

std::vector<std::string> link_flag_keys() {
  return param_names();
}

}  // namespace longhaul::link
