// modgated: the modgate daemon. `modgated --check --policy FILE` validates and touches nothing.
#include <cstdio>
#include <iostream>

#include <boost/program_options.hpp>

#include "gateway/control/exit_code.hpp"
#include "gateway/daemon/boot.hpp"
#include "gateway/daemon/daemon.hpp"
#include "gateway/events/bus.hpp"
#include "gateway/events/sink.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
    modgate::daemon::Options opt;
    bool check = false, boot = false, devices = false;
    po::options_description desc(
        "usage: modgated [--policy FILE] [--control-socket PATH] [--state-dir DIR]\n"
        "       modgated --check --policy FILE\n"
        "       modgated --boot-ruleset [--state-dir DIR]\n"
        "       modgated --devices --policy FILE\n\n"
        "The modgate daemon: applies the policy's ruleset, brings the bridge ports up, proxies the\n"
        "permitted flows and reports every drop. SIGHUP reloads the policy (a bad one is refused and\n"
        "the running one kept); SIGTERM takes the bridge ports down, stops the daemon and leaves the\n"
        "ruleset in force.\n\noptions");
    desc.add_options()
        ("policy", po::value(&opt.policy_path)->default_value(opt.policy_path), "policy file")
        ("control-socket", po::value(&opt.control_socket)->default_value(opt.control_socket), "control socket path")
        ("state-dir", po::value(&opt.state_dir)->default_value(opt.state_dir), "state directory")
        ("event-file", po::value(&opt.event_file), "also append every event line to this file")
        ("proxy-user", po::value(&opt.proxy_user)->default_value(opt.proxy_user),
         "the user the unprivileged proxy process runs as")
        ("interface-wait", po::value(&opt.interface_wait_s)->default_value(opt.interface_wait_s),
         "seconds to wait at start for the bridge and its ports to exist and be enslaved")
        ("check", po::bool_switch(&check), "validate the policy and exit; touches nothing")
        ("boot-ruleset", po::bool_switch(&boot),
         "load the boot-time ruleset (the last policy applied, in its persisted mode, or default deny) and exit")
        ("devices", po::bool_switch(&devices), "print the interfaces the policy needs, one per line, and exit")
        ("help,h", "this help");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "modgated: %s\n\n", e.what());
        std::cerr << desc << '\n';
        return modgate::Exit::usage;
    }
    if (vm.count("help")) {
        std::cout << desc << '\n';
        return modgate::Exit::ok;
    }
    if (boot) {
        modgate::events::Bus::get().set_sinks({modgate::events::LogfmtSink::to_stderr(modgate::events::Level::info)});
        int rc = modgate::daemon::load_boot_ruleset(opt.state_dir);
        modgate::events::Bus::get().flush();
        return rc;
    }
    auto r = modgate::policy::load_file(opt.policy_path);
    if (devices && r.policy) return modgate::daemon::print_devices(*r.policy);
    if (check || !r.policy) {
        auto report = r.report();
        std::fputs(report.c_str(), r.policy ? stdout : stderr);
        if (r.policy) (void)modgate::policy::compile(*r.policy);
        return r.policy ? modgate::Exit::ok : modgate::Exit::invalid;
    }
    return modgate::daemon::run(opt, std::move(r));
}
