// The boot-time ruleset (modgate-boot.service, before any network interface is up) and the
// state it is built from: the last policy modgated put in force, saved as text and compiled
// again at boot, never a snapshot of the kernel, so expired window elements cannot come back.
#pragma once
#include <string>

#include "policy/model.hpp"
#include "policy/ruleset.hpp"

namespace modgate::daemon {

// Files under the state directory that outlive the daemon.
std::string applied_policy_path(const std::string& state_dir);  // the last policy put in force
std::string island_state_path(const std::string& state_dir);    // present while island mode is on

// Saves the text of the policy just put in force, atomically; an event names a failure.
void save_applied_policy(const std::string& state_dir, const std::string& text);

// What the boot ruleset will be, decided from the state directory alone (no kernel, no root).
struct BootPlan {
    ruleset::Ruleset ruleset;
    bool persisted = false;          // false: default deny
    std::string file;                // the saved policy, when there is one
    std::string hash;                // its hash, when it loaded
    policy::Mode mode = policy::Mode::enforce;
};
BootPlan plan_boot(const std::string& state_dir);

// `modgated --boot-ruleset`: puts plan_boot()'s ruleset in the kernel in one transaction and
// exits; touches no interface. Exit 0, or 3 when the kernel refused it.
int load_boot_ruleset(const std::string& state_dir);

// `modgated --devices`: the interfaces the policy needs, one per line (bridge, modality port,
// network port, management interface), for the generator that orders the unit after them.
int print_devices(const policy::Policy& p);

}  // namespace modgate::daemon
