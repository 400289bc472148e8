#include "cli/completion_command.hh"

#include <fmt/format.h>

#include <iostream>
#include <set>
#include <vector>

#include "cli/commands.hh"
#include "lab/lab_state.hh"

namespace longhaul::cli {

namespace {

/// What one command (the root, `run`, `bench client`, ...) accepts, as the scripts need it.
struct CommandWords {
  std::string key;  ///< "." for the root, else the subcommand path: "bench client"
  std::vector<std::string> subcommands;
  std::vector<std::string> options;  ///< every spelling: -q and --quiet
  std::vector<std::string> valued;   ///< the spellings that take a value
  /// For a valued spelling, what its value is: "file", "lab", "site", "lane", "choice:a b c".
  std::vector<std::pair<std::string, std::string>> value_kinds;
  std::vector<std::string> positional_kinds;  ///< in order; "-" when nothing can be offered
};

/// "TEXT:{packet,xdp}" (CLI11 appends an IsMember validator's set to the type name) -> "packet
/// xdp".
std::string choices_of(const std::string& type_name) {
  const auto open = type_name.find('{');
  const auto close = type_name.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return "";
  std::string choices = type_name.substr(open + 1, close - open - 1);
  for (char& c : choices) {
    if (c == ',') c = ' ';
  }
  return choices;
}

/// What the completion scripts offer for an option's value or a positional.
std::string value_kind(const CLI::Option& option) {
  const std::string type = option.get_type_name();
  if (const std::string choices = choices_of(type); !choices.empty()) return "choice:" + choices;
  std::set<std::string> names{option.get_name(true, false)};
  for (const auto& name : option.get_lnames()) names.insert(name);
  for (const char* kind : {"lab", "site", "lane", "command"}) {
    if (names.contains(kind)) return kind;
  }
  if (type.starts_with("SITE")) return "site";
  if (type.starts_with("FILE") || names.contains("file")) return "file";
  return "-";
}

bool hidden(const CLI::App& app) {
  return app.get_group().empty();
}

void collect(const CLI::App& app, const std::string& key, std::vector<CommandWords>& out) {
  CommandWords words;
  words.key = key;
  std::vector<const CLI::App*> children;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (hidden(*sub)) continue;
    words.subcommands.push_back(sub->get_name());
    children.push_back(sub);
  }
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group().empty()) continue;
    if (option->get_positional() && option->get_lnames().empty() && option->get_snames().empty()) {
      words.positional_kinds.push_back(value_kind(*option));
      continue;
    }
    std::vector<std::string> spellings;
    for (const auto& name : option->get_snames()) spellings.push_back("-" + name);
    for (const auto& name : option->get_lnames()) spellings.push_back("--" + name);
    const bool takes_value = option->get_type_size() != 0;
    for (const auto& spelling : spellings) {
      words.options.push_back(spelling);
      if (!takes_value) continue;
      words.valued.push_back(spelling);
      words.value_kinds.emplace_back(spelling, value_kind(*option));
    }
  }
  out.push_back(std::move(words));
  for (const CLI::App* child : children) {
    collect(*child, key == "." ? child->get_name() : key + " " + child->get_name(), out);
  }
}

/// A double-quoted shell word (bash and zsh read it the same way).
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string join(const std::vector<std::string>& items) {
  std::string joined;
  for (const auto& item : items) joined += (joined.empty() ? "" : " ") + item;
  return joined;
}

/// The tables both shells' scripts read, as assignments to associative arrays (the syntax is
/// the same in bash and zsh): subs, opts, valued, kinds ("KEY OPTION"), positional.
std::string tables(const std::vector<CommandWords>& commands) {
  std::string subs, opts, valued, kinds, positional;
  for (const auto& words : commands) {
    const auto entry = [&](const std::string& key, const std::string& value) {
      return fmt::format("    [{}]={}\n", quoted(key), quoted(value));
    };
    subs += entry(words.key, join(words.subcommands));
    opts += entry(words.key, join(words.options));
    valued += entry(words.key, join(words.valued));
    positional += entry(words.key, join(words.positional_kinds));
    for (const auto& [option, kind] : words.value_kinds)
      kinds += entry(words.key + " " + option, kind);
  }
  return fmt::format(
      "  local -A subs=(\n{}  )\n  local -A opts=(\n{}  )\n  local -A valued=(\n{}  )\n"
      "  local -A kinds=(\n{}  )\n  local -A positional=(\n{}  )\n",
      subs, opts, valued, kinds, positional);
}

// The walk over the words typed so far is the same in both shells: options that take a value
// skip their value, a known subcommand name descends, anything else is a positional; after `--`
// the rest is another command's line. Only the final offering differs.
constexpr const char* kBashScript =
    R"SH(# bash completion for longhaul: generated by `longhaul completion bash` from the
# command's own definitions; regenerate it rather than editing it.
_longhaul_offer() {
  local kind=$1 cur=$2
  case $kind in
    file) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- "$cur")) ;;
    lab|site|lane)
      COMPREPLY+=($(compgen -W "$("${COMP_WORDS[0]}" completion names "$kind" 2>/dev/null)" -- "$cur")) ;;
    command) COMPREPLY+=($(compgen -c -- "$cur")) ;;
    choice:*) COMPREPLY+=($(compgen -W "${kind#choice:}" -- "$cur")) ;;
  esac
}

_longhaul() {
{TABLES}  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local cmdpath=. w i npos=0 dd=0
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ $w == -- ]]; then dd=$i; break; fi
    if [[ $w == -* ]]; then
      if [[ " ${valued[$cmdpath]} " == *" $w "* ]]; then
        if [[ ${COMP_WORDS[i+1]} == = ]]; then ((i++)); fi
        ((i++))
      fi
      continue
    fi
    if [[ " ${subs[$cmdpath]} " == *" $w "* ]]; then
      if [[ $cmdpath == . ]]; then cmdpath=$w; else cmdpath="$cmdpath $w"; fi
      npos=0
      continue
    fi
    ((npos++))
  done
  if ((dd)); then
    if ((COMP_CWORD == dd + 1)); then
      COMPREPLY=($(compgen -c -- "$cur"))
    elif declare -F _command_offset >/dev/null; then
      _command_offset $((dd + 1))
    else
      compopt -o default 2>/dev/null
    fi
    return
  fi
  if [[ $prev == = ]] && ((COMP_CWORD > 2)); then prev=${COMP_WORDS[COMP_CWORD-2]}; fi
  if [[ $cur == = ]]; then cur=""; fi
  if ((COMP_CWORD > 1)) && [[ " ${valued[$cmdpath]} " == *" $prev "* ]]; then
    _longhaul_offer "${kinds["$cmdpath $prev"]}" "$cur"
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${opts[$cmdpath]}" -- "$cur"))
    return
  fi
  local -a kindlist=(${positional[$cmdpath]})
  if ((npos < ${#kindlist[@]})); then _longhaul_offer "${kindlist[npos]}" "$cur"; fi
  COMPREPLY+=($(compgen -W "${subs[$cmdpath]}" -- "$cur"))
}
complete -F _longhaul longhaul
)SH";

constexpr const char* kZshScript = R"SH(#compdef longhaul
# zsh completion for longhaul: generated by `longhaul completion zsh` from the command's own
# definitions; regenerate it rather than editing it.
_longhaul_offer() {
  local kind=$1
  case $kind in
    file) _files ;;
    lab|site|lane) compadd -- ${(f)"$(${words[1]} completion names $kind 2>/dev/null)"} ;;
    command) _command_names -e ;;
    choice:*) compadd -- ${=${kind#choice:}} ;;
  esac
}

_longhaul() {
{TABLES}  local cur=${words[CURRENT]} prev=${words[CURRENT-1]}
  local cmdpath=. w i npos=0 dd=0
  for ((i = 2; i < CURRENT; i++)); do
    w=${words[i]}
    if [[ $w == -- ]]; then dd=$i; break; fi
    if [[ $w == -* ]]; then
      if [[ $w != *=* && " ${valued[$cmdpath]} " == *" $w "* ]]; then ((i++)); fi
      continue
    fi
    if [[ " ${subs[$cmdpath]} " == *" $w "* ]]; then
      if [[ $cmdpath == . ]]; then cmdpath=$w; else cmdpath="$cmdpath $w"; fi
      npos=0
      continue
    fi
    ((npos++))
  done
  if ((dd)); then
    if ((CURRENT == dd + 1)); then
      _command_names -e
    else
      shift $dd words
      ((CURRENT -= dd))
      _normal
    fi
    return
  fi
  if ((CURRENT > 2)) && [[ " ${valued[$cmdpath]} " == *" $prev "* ]]; then
    _longhaul_offer "${kinds[$cmdpath $prev]}"
    return
  fi
  if [[ $cur == -* ]]; then
    compadd -- ${=opts[$cmdpath]}
    return
  fi
  local -a kindlist=(${=positional[$cmdpath]})
  if ((npos < ${#kindlist})); then _longhaul_offer "${kindlist[npos+1]}"; fi
  compadd -- ${=subs[$cmdpath]}
}

if [[ $funcstack[1] == _longhaul ]]; then
  _longhaul "$@"
else
  compdef _longhaul longhaul
fi
)SH";

std::string with_tables(std::string script, const std::string& table_text) {
  const std::string marker = "{TABLES}";
  script.replace(script.find(marker), marker.size(), table_text);
  return script;
}

}  // namespace

CompletionCommand::CompletionCommand(CLI::App& app) : root_(&app) {
  command_ = app.add_subcommand("completion", "Print a shell completion script");
  command_->group("");  // hidden: for packagers and `make install`, documented in the man page
  command_->add_option("shell", shell_, "bash or zsh")->check(CLI::IsMember({"bash", "zsh"}));
  names_ = command_->add_subcommand("names", "List the labs, sites or lanes that are up");
  names_->add_option("kind", kind_, "labs, sites or lanes")
      ->required()
      ->check(CLI::IsMember({"lab", "site", "lane"}));
  command_->require_subcommand(0, 1);
}

int CompletionCommand::execute() {
  if (names_->parsed()) {
    std::set<std::string> names;
    for (const auto& state : lab::list_labs()) {
      if (kind_ == "lab") names.insert(state.name);
      const char* list = kind_ == "site" ? "sites" : "lanes";
      if (kind_ == "lab" || !state.description.contains(list)) continue;
      for (const auto& entry : state.description.at(list)) names.insert(entry.value("name", ""));
    }
    for (const auto& name : names) std::cout << name << "\n";
    return 0;
  }
  if (shell_.empty()) throw UsageError("completion: name the shell: bash or zsh");
  std::vector<CommandWords> commands;
  collect(*root_, ".", commands);
  const std::string table_text = tables(commands);
  std::cout << with_tables(shell_ == "bash" ? kBashScript : kZshScript, table_text);
  return 0;
}

}  // namespace longhaul::cli
