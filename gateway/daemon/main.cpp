// modgated: the modgate daemon. `modgated --check --policy FILE` validates and touches nothing.
#include <cstdio>
#include <iostream>

#include <boost/program_options.hpp>

#include "gateway/control/exit_code.hpp"
#include "gateway/daemon/daemon.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
    modgate::daemon::Options opt;
    bool check = false;
    po::options_description desc(
        "usage: modgated [--policy FILE] [--control-socket PATH] [--state-dir DIR]\n"
        "       modgated --check --policy FILE\n\n"
        "The modgate daemon: applies the policy's ruleset, brings the bridge ports up, proxies the\n"
        "permitted flows and reports every drop. SIGHUP reloads the policy (a bad one is refused and\n"
        "the running one kept); SIGTERM stops the daemon and leaves the ruleset in force.\n\noptions");
    desc.add_options()
        ("policy", po::value(&opt.policy_path)->default_value(opt.policy_path), "policy file")
        ("control-socket", po::value(&opt.control_socket)->default_value(opt.control_socket), "control socket path")
        ("state-dir", po::value(&opt.state_dir)->default_value(opt.state_dir), "state directory")
        ("event-file", po::value(&opt.event_file), "also append every event line to this file")
        ("proxy-user", po::value(&opt.proxy_user)->default_value(opt.proxy_user),
         "the user the unprivileged proxy process runs as")
        ("check", po::bool_switch(&check), "validate the policy and exit; touches nothing")
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
    auto r = modgate::policy::load_file(opt.policy_path);
    if (check || !r.policy) {
        auto report = r.report();
        std::fputs(report.c_str(), r.policy ? stdout : stderr);
        if (r.policy) (void)modgate::policy::compile(*r.policy);
        return r.policy ? modgate::Exit::ok : modgate::Exit::invalid;
    }
    return modgate::daemon::run(opt, std::move(r));
}
