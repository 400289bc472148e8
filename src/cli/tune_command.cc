#include "cli/tune_command.hh"

#include <arpa/inet.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <iostream>

#include "cli/commands.hh"
#include "core/units.hh"
#include "io/netns.hh"
#include "io/rootless.hh"
#include "lab/lab_session.hh"
#include "lab/run_session.hh"
#include "tune/apply.hh"
#include "tune/format.hh"
#include "tune/inspect.hh"

namespace longhaul::cli {

namespace {

void text_option(CLI::App* app, const char* name, std::optional<std::string>& target,
                 const char* help, const char* type) {
  app->add_option_function<std::string>(
         name, [&target](const std::string& value) { target = value; }, help)
      ->type_name(type);
}

bool is_address(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// "2000" or "2000/s": a positive number of new connections per second.
std::optional<double> parse_per_second(std::string text) {
  if (text.ends_with("/s")) text.resize(text.size() - 2);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty() ||
      !std::isfinite(value) || value <= 0) {
    return std::nullopt;
  }
  return value;
}

// The namespace of `site` in `lab` (or in the only lab that is up), resolved through the lab's
// state so a wrong name is answered with the lab's sites. A --revert may outlive its lab: then
// the name is formed directly, and revert finds the namespace gone and drops its saved state.
std::string site_namespace(const std::string& lab, const std::string& site, bool revert) {
  if (revert && !lab.empty() && !lab::find_lab(lab)) return lab::site_netns(lab, site);
  lab::LabState state;
  try {
    state = lab::choose_lab(lab);
    return lab::find_site(state, site).at("netns").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error("lab '" + state.name +
                             "': its state file has no namespace for site '" + site + "'");
  } catch (const std::runtime_error& error) {
    throw UsageError(std::string(lab.empty() ? "--site: " : "--lab/--site: ") + error.what());
  }
}

}  // namespace

TuneCommand::TuneCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "tune", "Compute the bandwidth-delay product and the host settings a path needs");
  command_->footer(
      "Reads the running kernel's settings (socket buffer limits, congestion control, qdisc,\n"
      "MTU probing, the route's MTU, txqueuelen and initcwnd/initrwnd, ephemeral ports,\n"
      "TIME_WAIT reuse, conntrack, rp_filter) and prints, for each, the current value, the\n"
      "recommended one, why, and the throughput (or connection rate) it allows. Buffer limits\n"
      "are sized from rate x RTT per stream and are never lowered. --rtt is a round trip.\n\n"
      "--apply changes the settings of one target and saves what it found under\n"
      "/run/longhaul/tune; --revert restores those values exactly. A target is a network\n"
      "namespace (--netns NAME: any under /run/netns, e.g. lh-r1-cmd of a `longhaul run`), where\n"
      "host-global settings are refused with the reason, or the machine itself (--host).\n"
      "--lab NAME --site SITE names a lab site's namespace (lh-NAME-SITE) through the lab's\n"
      "state, so a wrong name lists the lab's sites; --site alone means the only lab that is "
      "up.\n\n"
      "Exit status: 0 done; 2 bad usage; 3 needs root; 4 a setting could not be read or "
      "written.\n\n"
      "Examples:\n"
      "  longhaul tune --rate 10gbit --rtt 346ms --streams 4\n"
      "  longhaul tune --rate 1gbit --rtt 80ms --format sysctl > 90-longhaul.conf\n"
      "  sudo longhaul tune --rate 10gbit --rtt 346ms --netns lh-r1-cmd --apply\n"
      "  sudo longhaul tune --netns lh-r1-cmd --revert\n"
      "  sudo longhaul tune --rate 10gbit --rtt 346ms --lab four-sites --site japan --apply\n"
      "See docs/tune.md.");
  auto* c = command_;
  text_option(c, "--rate", rate_, "Path bottleneck rate (e.g. 10gbit, 500mbit); required", "RATE");
  text_option(c, "--rtt", rtt_, "Round-trip time of the path (e.g. 346ms); required", "DURATION");
  c->add_option("--streams", streams_, "Parallel TCP streams sharing the path (default 1)")
      ->type_name("N")
      ->check(CLI::Range(1U, 65536U));
  c->add_option("--os", os_, "Recommend for linux (default; reads this host) or macos")
      ->type_name("OS")
      ->check(CLI::IsMember({"linux", "macos"}));
  c->add_option("--peer", peer_,
                "Address of the far end: inspect (and tune) the route to it; default: the "
                "default route")
      ->type_name("ADDRESS");
  text_option(c, "--loss", loss_, "Expected packet loss (e.g. 0.1%), for the Mathis limit",
              "PERCENT");
  text_option(c, "--churn", churn_,
              "New connections per second to one server address:port (sizes ephemeral ports, "
              "TIME_WAIT reuse, conntrack)",
              "N");
  c->add_option("--netns", netns_,
                "Inspect, and apply to, network namespace NAME (/run/netns/NAME)")
      ->type_name("NAME");
  c->add_option("--lab", lab_, "With --site: the lab whose site to inspect or tune")
      ->type_name("NAME");
  c->add_option("--site", site_,
                "Inspect, and apply to, this lab site's namespace (lh-LAB-SITE); the lab is "
                "--lab or the only one up")
      ->type_name("SITE");
  c->add_flag("--host", host_, "Apply to (or revert) this machine itself: the explicit flag");
  c->add_flag("--apply", apply_, "Apply the recommended settings to --netns NAME or --host");
  c->add_flag("--revert", revert_, "Restore what --apply changed on --netns NAME or --host");
  c->add_option("--format", format_,
                "Output: table (default), sysctl (a sysctl.conf snippet), json")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"table", "sysctl", "json"}));
}

int TuneCommand::execute() {
  tune::Output output;
  tune::TuneRequest& request = output.request;
  const bool json = format_ == "json";
  try {
    request.os = os_ == "macos" ? tune::Os::macos_os : tune::Os::linux_os;
    request.streams = streams_;
    if (apply_ && revert_) throw UsageError("--apply and --revert: choose one");
    if (!lab_.empty() && site_.empty()) {
      throw UsageError("--lab NAME needs --site SITE (the site whose namespace to tune)");
    }
    if (host_ && !netns_.empty()) throw UsageError("--host and --netns: choose one target");
    if ((apply_ || revert_) && !host_ && netns_.empty() && site_.empty()) {
      throw UsageError(std::string(apply_ ? "--apply" : "--revert") +
                       " needs a target: --netns NAME (a namespace), --lab NAME --site SITE (a "
                       "lab site) or --host (this machine)");
    }
    if (request.os == tune::Os::macos_os) {
      if (apply_ || revert_ || host_ || !netns_.empty() || !site_.empty() || !peer_.empty()) {
        throw UsageError(
            "--os macos prints advice for a Mac; --apply, --revert, --host, --netns, --site and "
            "--peer work on Linux only");
      }
    }
    if (!site_.empty()) {
      if (host_ || !netns_.empty()) {
        throw UsageError("--site and " + std::string(host_ ? "--host" : "--netns") +
                         ": choose one target");
      }
      netns_ = site_namespace(lab_, site_, revert_);
    }
    if (!netns_.empty()) {
      request.target = tune::TargetKind::netns;
      request.netns = netns_;
    }
    if (!peer_.empty() && !is_address(peer_)) {
      throw UsageError("--peer: '" + peer_ + "' is not an IPv4 or IPv6 address");
    }
    request.peer = peer_;
    if (!revert_) {
      if (!rate_) throw UsageError("--rate is required (e.g. --rate 10gbit)");
      if (!rtt_) throw UsageError("--rtt is required (e.g. --rtt 346ms)");
      const auto rate = core::parse_rate_bps(*rate_);
      if (!rate) throw UsageError("--rate: " + rate.error);
      const auto rtt = core::parse_duration(*rtt_);
      if (!rtt) throw UsageError("--rtt: " + rtt.error);
      if (rtt->count() <= 0) throw UsageError("--rtt: must be greater than zero (e.g. 346ms)");
      request.rate_bps = *rate;
      request.rtt = *rtt;
      if (loss_) {
        const auto loss = core::parse_probability(*loss_);
        if (!loss) throw UsageError("--loss: " + loss.error);
        if (*loss <= 0 || *loss >= 1) throw UsageError("--loss: must be above 0% and below 100%");
        request.loss = *loss;
      }
      if (churn_) {
        request.churn_per_s = parse_per_second(*churn_);
        if (!request.churn_per_s) {
          throw UsageError("--churn: '" + *churn_ +
                           "' is not a positive number of connections per second (e.g. 2000)");
        }
      }
    }
    if (io::in_rootless_session() && request.target != tune::TargetKind::netns &&
        (apply_ || revert_)) {
      throw lab::EnvironmentError(
          "tune --host changes this machine's own settings, which needs real root (sudo); "
          "rootless, tune applies to a lab's namespaces only (--site SITE or --netns NAME), "
          "where host-global settings are refused");
    }
    if (request.target == tune::TargetKind::netns || apply_ || revert_) {
      if (::geteuid() != 0) {
        throw lab::EnvironmentError(
            "longhaul tune needs root to enter a network namespace or change settings; run it "
            "with sudo");
      }
    }
    if (request.target == tune::TargetKind::netns && !io::netns_exists(request.netns) && !revert_) {
      throw UsageError("--netns: no network namespace '" + request.netns + "' in " +
                       io::kNetnsRunDir);
    }

    if (revert_) {
      output.revert = tune::revert(request);
      if (json) {
        std::cout << tune::format_json(output);
      } else {
        std::cout << tune::format_revert(*output.revert, request);
      }
      return output.revert->problems.empty() ? 0 : lab::kExitSetup;
    }

    std::optional<tune::HostSettings> settings;
    if (request.os == tune::Os::linux_os) settings = tune::inspect(request);
    output.report = tune::make_report(request, std::move(settings));
    if (apply_) output.apply = tune::apply(output.report->rows, request);
    if (json) {
      std::cout << tune::format_json(output);
      return 0;
    }
    std::cout << (format_ == "sysctl" ? tune::format_sysctl(*output.report)
                                      : tune::format_table(*output.report));
    if (output.apply) std::cout << "\n" << tune::format_apply(*output.apply, request);
    return 0;
  } catch (const std::exception& error) {
    // JSON output always parses: the error goes inside it too (main still prints it on stderr
    // and chooses the exit status).
    if (json) {
      output.error = error.what();
      std::cout << tune::format_json(output);
    }
    throw;
  }
}

}  // namespace longhaul::cli
