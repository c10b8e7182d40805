// modgated's core: host set-up, the first apply before the ports come up, the proxies, drop
// events from NFLOG, re-apply when someone else alters our tables, reloads on SIGHUP.
#pragma once
#include <memory>
#include <string>

#include "policy/load.hpp"
#include "policy/model.hpp"

namespace modgate::daemon {

struct Options {
    std::string policy_path = "/etc/modgate/policy.toml";
    std::string control_socket = "/run/modgate/control.sock";
    std::string state_dir = "/var/lib/modgate";
    std::string event_file;  // optional extra copy of every event line
    std::string proxy_user = "modgate-proxy";  // the proxy process's user (privilege separation)
    unsigned interface_wait_s = 60;  // how long start waits for the bridge and its ports
};

// Runs until SIGTERM/SIGINT. Returns the process exit code (DESIGN.md contracts).
// `loaded`: a policy that loaded without errors.
int run(const Options& opt, policy::LoadResult loaded);

}  // namespace modgate::daemon
