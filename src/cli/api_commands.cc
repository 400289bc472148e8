#include "cli/api_commands.hh"

#include <fmt/format.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <iostream>
#include <limits>
#include <thread>

#include "cli/commands.hh"
#include "cli/watch_view.hh"
#include "control/api_client.hh"
#include "control/control_api.hh"
#include "control/web_proxy.hh"
#include "core/units.hh"
#include "lab/control_host.hh"
#include "lab/engine_directory.hh"
#include "lab/lab_session.hh"
#include "lab/lab_state.hh"
#include "link/schema.hh"

namespace longhaul::cli {

namespace {

using Clock = std::chrono::steady_clock;

/// "--rtt a -> b" for a lane: its up direction goes from end a to end b.
std::string lane_words(std::string_view help) {
  std::string text(help);
  for (const auto& [from, to] :
       {std::pair{"command -> remote", "a -> b"}, std::pair{"remote -> command", "b -> a"}}) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      text.replace(at, std::string_view(from).size(), to);
    }
  }
  return text;
}

/// Why `engine` did not answer, as one sentence for the user.
std::string unreachable_message(const lab::EngineRef& engine,
                                const control::ApiUnreachable& error) {
  // An engine being taken down closes its socket first and exits once it has removed the lab:
  // give it a moment (bounded) so "gone" is told apart from "alive but not answering".
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  while (engine.pid != 0 && lab::engine_is_alive(engine) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // another process's exit
  }
  if (engine.kind == "bridge") {
    return fmt::format("bridge {}: nothing answers on {} (the bridge stopped?): {}", engine.name,
                       engine.socket, error.what());
  }
  if (lab::engine_is_alive(engine)) {
    return fmt::format("{}: its engine (pid {}) runs but does not answer: {}", engine.label(),
                       engine.pid, error.what());
  }
  if (engine.kind == "lab" && !lab::find_lab(engine.name)) {
    return fmt::format("lab {}: its engine is gone (the lab was taken down)", engine.name);
  }
  if (engine.kind == "run") {
    return fmt::format("run {}: its engine is gone (the run ended): {}", engine.name, error.what());
  }
  return fmt::format(
      "lab {}: its engine (pid {}) is gone ({}); `longhaul down --stale` removes what it left",
      engine.name, engine.pid, error.what());
}

/// The request's answer as JSON; a body that is not (another program on the socket) is an
/// error naming the socket.
nlohmann::json answer_json(const control::ApiAnswer& answer, const std::string& socket) {
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (parsed.is_discarded()) {
    throw std::runtime_error(
        fmt::format("the answer from {} is not JSON: {}", socket, answer.body.substr(0, 200)));
  }
  return parsed;
}

/// The server refused: its message as it wrote it, exit 2 for a request it judged wrong (4xx)
/// and 4 for anything else (its own failure).
[[noreturn]] void refused(const lab::EngineRef& engine, const control::ApiAnswer& answer) {
  const std::string message = fmt::format("{} refused (HTTP {}): {}", engine.label(), answer.status,
                                          answer.error_message());
  if (answer.status >= 400 && answer.status < 500) throw UsageError(message);
  throw std::runtime_error(message);
}

// `watch`: SIGINT and SIGTERM end the loop (through this flag) so the terminal is restored.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void note_stop_signal(int signal_number) {
  g_stop_signal = signal_number;
}

/// Catches SIGINT and SIGTERM while alive (without SA_RESTART, so a wait returns EINTR) and
/// puts the previous handlers back after.
class StopSignals {
 public:
  StopSignals() {
    struct sigaction action {};
    action.sa_handler = note_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

/// A terminal in place-redraw mode: keys arrive one at a time without echo (so `q` quits
/// without Enter) and the cursor is hidden; everything is put back on destruction, which
/// also runs when a signal or the engine's going away ends the view.
class RawTerminal {
 public:
  explicit RawTerminal(bool keys) {
    if (keys && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      restore_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    std::cout << "\x1b[?25l\x1b[2J" << std::flush;
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  ~RawTerminal() {
    // Below the last refresh (its footer ends without a newline), cursor shown again.
    std::cout << "\n\x1b[?25h" << std::flush;
    if (restore_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool restore_ = false;
};

/// Waits until `deadline`; true when the user pressed q (or a stop signal came).
bool wait_or_quit(Clock::time_point deadline, bool keys) {
  while (g_stop_signal == 0) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd input{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(keys ? &input : nullptr, keys ? 1 : 0, static_cast<int>(left.count()));
    if (ready > 0 && (input.revents & POLLIN) != 0) {
      char key = 0;
      if (::read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q')) return true;
    }
  }
  return true;
}

/// One refresh for a log or a pipe: the lines, then a blank line.
std::string block_text(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text + "\n";
}

/// One refresh drawn over the last from the top left. Lines are cut to the terminal's width
/// and height: a line that wrapped or a screen that scrolled would leave the next redraw
/// misplaced.
std::string screen_text(const std::vector<std::string>& lines, bool keys) {
  winsize size{};
  const bool known = ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0;
  const std::size_t columns = known ? size.ws_col : std::numeric_limits<std::size_t>::max();
  // Room for the lines and the footer; at least the title and headings.
  const std::size_t rows = known && size.ws_row > 2 ? size.ws_row - 2U : lines.size();
  std::string text = "\x1b[H";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i == rows && rows < lines.size()) {
      text += fmt::format("... {} more lines: enlarge the terminal\x1b[K\n", lines.size() - i);
      break;
    }
    text += lines[i].substr(0, columns) + "\x1b[K\n";
  }
  return text + (keys ? "q quits" : "Ctrl-C quits") + "\x1b[K\x1b[J";
}

}  // namespace

SetCommand::SetCommand(CLI::App& app) {
  command_ = app.add_subcommand("set", "Change a running lab's lane live (rtt, rate, loss, ...)");
  command_->footer(
      "Sends the change to the lab's control API (docs/api.md); it applies at one engine\n"
      "instant in both directions, and `set` returns once it is in force. Values have the units\n"
      "of `longhaul run`. Flags that cannot change live (--jitter, --qdisc, ...) are refused:\n"
      "change them in the topology file and restart the lab. A change that needs more buffer\n"
      "than the lab reserved at `up` (a longer delay at a high rate) is refused (409).\n\n"
      "Examples:\n"
      "  longhaul set four-sites japan --rtt 300ms --rate-up 500mbit\n"
      "  longhaul set japan --down --rate 20mbit --at +5s\n"
      "  longhaul set japan --outage 2s\n"
      "  longhaul set r1 link --rtt 80ms          (a `longhaul run`: lane \"link\")\n"
      "  longhaul set wan 0 --loss 1%             (a `longhaul bridge --name wan`: lanes by "
      "number)");
  // Two optional positionals rather than CLI11's "at least one": with one name given it is
  // the lane (execute() shifts it), and completion offers labs, then lanes.
  command_->add_option("lab", lab_,
                       "The lab, run (rN) or bridge (default: the only lab that is up)");
  command_->add_option("lane", lane_, "The lane to change (its name in `longhaul status`)");
  for (const link::Param& param : link::link_params()) {
    // `set` has its own --at (when) and --outage (one now); the schema's are `run`'s.
    if (param.key == "at" || param.key == "outage") continue;
    const bool live = [&] {
      const auto& keys = control::live_keys();
      return std::find(keys.begin(), keys.end(), param.key) != keys.end();
    }();
    for (const std::string& name : link::names_of(param)) {
      std::string help = lane_words(param.help);
      if (name.ends_with("-up")) help = lane_words(std::string(param.per_direction) + " a -> b");
      if (name.ends_with("-down")) help = lane_words(std::string(param.per_direction) + " b -> a");
      CLI::Option* option = nullptr;
      if (param.on != nullptr) {
        option = command_->add_flag_function(
            "--" + name,
            [this, name](std::int64_t) {
              flags_.push_back({name, ""});
            },
            help);
      } else {
        option = command_
                     ->add_option_function<std::string>(
                         "--" + name,
                         [this, name](const std::string& value) {
                           flags_.push_back({name, value});
                         },
                         help)
                     ->type_name(std::string(param.metavar));
      }
      // Flags that cannot change live are known (so they get "restart the lab", not "unknown
      // option") but not offered in --help or completion.
      if (!live) option->group("");
    }
  }
  auto* up = command_->add_flag("--up", up_, "Change only direction up (a -> b)");
  auto* down = command_->add_flag("--down", down_, "Change only direction down (b -> a)");
  up->excludes(down);
  command_
      ->add_option_function<std::string>(
          "--at", [this](const std::string& value) { at_ = value; },
          "When: +DURATION from now (+5s) or DURATION from the lab's start (90s); default: now")
      ->type_name("TIME");
  command_
      ->add_option_function<std::string>(
          "--outage", [this](const std::string& value) { outage_ = value; },
          "Instead of flags: an outage of this length (both directions, or --up/--down)")
      ->type_name("DURATION");
  command_->add_flag("--json", json_, "Print the server's answer as it came (JSON)");
}

int SetCommand::execute() {
  const std::string lab_name = lane_.empty() ? std::string() : lab_;
  const std::string lane = lane_.empty() ? lab_ : lane_;
  if (lane.empty()) {
    throw UsageError(
        "set needs the lane to change: longhaul set [LAB] LANE FLAGS, e.g. "
        "`longhaul set four-sites japan --rtt 300ms`");
  }
  SetInput input;
  input.flags = flags_;
  input.direction = up_ ? SetDirection::up : down_ ? SetDirection::down : SetDirection::both;
  input.at = at_;
  input.outage = outage_;
  // Checked whole before the lab is even looked up: a refused flag never reaches the engine.
  const ApiRequest request = set_request(lane, input);
  const lab::EngineRef engine =
      lab::choose_engine(lab_name, "its name first: longhaul set LAB LANE");
  control::ApiClient client(engine.socket);
  control::ApiAnswer answer;
  try {
    answer = client.request(request.method, request.path, request.body.dump());
  } catch (const control::ApiUnreachable& error) {
    throw std::runtime_error(unreachable_message(engine, error));
  }
  if (!answer.ok()) refused(engine, answer);
  if (json_) {
    std::cout << answer.body << (answer.body.ends_with("\n") ? "" : "\n");
    return 0;
  }
  std::cout << set_answer_line(engine.kind, engine.name, lane, request,
                               answer_json(answer, client.socket_path()))
            << "\n";
  return 0;
}

WatchCommand::WatchCommand(CLI::App& app) {
  command_ =
      app.add_subcommand("watch", "Show a running lab's lanes live: throughput, queues, drops");
  command_->footer(
      "Polls the lab's control API (GET /v1/lanes) every --interval and shows, per lane and\n"
      "direction: throughput out and packets/s over the interval, the bottleneck queue now, drops\n"
      "by cause over the interval, release lateness p99, and the rate, delay and loss in force. On "
      "a\n"
      "terminal it redraws in place and q quits; otherwise it prints one block per interval.\n"
      "Exits 4 when the lab's engine goes away.\n\n"
      "Example: longhaul watch four-sites --interval 2s");
  command_->add_option("lab", lab_,
                       "The lab, run (rN) or bridge (default: the only lab that is up)");
  command_->add_option("--interval", interval_, "Time between refreshes (default 1s)")
      ->type_name("DURATION");
  command_
      ->add_option_function<std::uint64_t>(
          "--count", [this](std::uint64_t value) { count_ = value; },
          "Stop after N refreshes (default: until q or Ctrl-C)")
      ->type_name("N");
}

int WatchCommand::execute() {
  const auto interval = core::parse_duration(interval_);
  if (!interval ||
      interval->count() < std::chrono::nanoseconds(std::chrono::milliseconds(10)).count()) {
    throw UsageError(fmt::format("--interval '{}': {}; give a duration of 10ms or more, e.g. 1s",
                                 interval_, interval ? "too short" : interval.error));
  }
  if (count_ && *count_ == 0) throw UsageError("--count 0: give at least one refresh");
  const lab::EngineRef engine = lab::choose_engine(lab_, "its name: longhaul watch LAB");
  control::ApiClient client(engine.socket);
  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  const bool keys = terminal && ::isatty(STDIN_FILENO) == 1;
  g_stop_signal = 0;
  const StopSignals stop_signals;
  std::optional<RawTerminal> raw;
  if (terminal) raw.emplace(keys);
  nlohmann::json previous;
  Clock::time_point previous_at{};
  const auto step = std::chrono::duration_cast<Clock::duration>(*interval);
  Clock::time_point next = Clock::now();
  for (std::uint64_t refresh = 0; !count_ || refresh < *count_; ++refresh) {
    if (refresh > 0 && wait_or_quit(next, keys)) break;
    control::ApiAnswer answer;
    try {
      answer = client.request("GET", "/v1/lanes");
    } catch (const control::ApiUnreachable& error) {
      throw std::runtime_error(unreachable_message(engine, error));
    }
    const Clock::time_point now = Clock::now();
    if (!answer.ok()) refused(engine, answer);
    nlohmann::json current = answer_json(answer, client.socket_path());
    const double elapsed = std::chrono::duration<double>(now - previous_at).count();
    const auto lines =
        watch_lines(engine.label(), refresh == 0 ? nullptr : &previous, current, elapsed);
    std::cout << (terminal ? screen_text(lines, keys) : block_text(lines)) << std::flush;
    previous = std::move(current);
    previous_at = now;
    // Refreshes keep their cadence: the next is one interval after this one was due.
    next += step;
    if (next < now) next = now + step;
  }
  return g_stop_signal == SIGTERM ? 128 + SIGTERM : 0;
}

WebCommand::WebCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "web", "Serve the web dashboard of a running lab, run or bridge (started without --web)");
  command_->footer(
      "Serves the dashboard page on a TCP address and relays its requests and event stream to\n"
      "the engine's control socket, until Ctrl-C (exit 0) or until the engine goes away (exit\n"
      "4). Loopback by default, on a free port unless --listen names one; any other address\n"
      "needs --token-file. Needs access to the engine's socket: root, or under sudo the group\n"
      "of the user who started it. See docs/dashboard.md.\n\n"
      "Examples:\n"
      "  longhaul web four-sites --listen 8080\n"
      "  longhaul web four-sites --listen 0.0.0.0:8080 --token-file ~/.longhaul-token");
  command_->add_option("lab", lab_,
                       "The lab, run (rN) or bridge (default: the only lab that is up)");
  command_
      ->add_option("--listen", listen_,
                   "Serve on [ADDR:]PORT (default: a free port on 127.0.0.1; any address but "
                   "loopback needs --token-file)")
      ->type_name("[ADDR:]PORT");
  command_
      ->add_option("--token-file", token_file_,
                   "Require the token on this file's first line for every request (mode 600)")
      ->type_name("FILE");
}

int WebCommand::execute() {
  control::ServerEndpoint endpoint = listen_ == "127.0.0.1:0"
                                         ? control::ServerEndpoint{{}, "127.0.0.1", 0, {}, true}
                                         : parse_listen_address("--listen", listen_);
  endpoint.dashboard = true;
  if (token_file_) {
    try {
      endpoint.token = control::read_token_file(*token_file_);
    } catch (const std::runtime_error& error) {
      throw UsageError(error.what());
    }
  } else if (!control::is_loopback(endpoint.host)) {
    throw UsageError(fmt::format(
        "--listen {}: not a loopback address, so anyone who reaches it could change the lanes; "
        "give --token-file FILE (a private file whose first line is the token)",
        listen_));
  }
  const lab::EngineRef engine = lab::choose_engine(lab_, "its name: longhaul web LAB");
  if (!lab::socket_answers(engine.socket)) {
    throw std::runtime_error(
        fmt::format("{}: nothing answers on its control socket {}", engine.label(), engine.socket));
  }
  g_stop_signal = 0;
  const StopSignals stop_signals;
  const control::WebProxy proxy(engine.socket, endpoint);
  const auto& bound = proxy.endpoint();
  std::cout << fmt::format("longhaul web: the dashboard of {} at {}{}; Ctrl-C stops\n",
                           engine.label(), endpoint_url(bound),
                           bound.token.empty() ? "" : " (open it once at /?token=TOKEN)")
            << std::flush;
  // The engine's going away ends the command (the page says so meanwhile); a signal too.
  while (g_stop_signal == 0) {
    if (!lab::socket_answers(engine.socket)) {
      std::cerr << fmt::format(
          "longhaul web: {} has gone (its control socket {} does not "
          "answer)\n",
          engine.label(), engine.socket);
      return 4;
    }
    // Polling another process's socket; a signal cuts the wait short (EINTR).
    ::poll(nullptr, 0, 500);
  }
  return 0;
}

}  // namespace longhaul::cli
