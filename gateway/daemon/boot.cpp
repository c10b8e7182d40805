// The boot-time ruleset: the last policy put in force, in its persisted mode, or default deny.
#include "gateway/daemon/boot.hpp"

#include <cstdio>
#include <filesystem>

#include "gateway/control/exit_code.hpp"
#include "gateway/events/events.hpp"
#include "gateway/nft/apply.hpp"
#include "gateway/windows/atomic_file.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"

namespace modgate::daemon {

using events::Event;
using events::Key;
using events::Kind;

std::string applied_policy_path(const std::string& state_dir) { return state_dir + "/applied.toml"; }
std::string island_state_path(const std::string& state_dir) { return state_dir + "/island.state"; }

void save_applied_policy(const std::string& state_dir, const std::string& text) {
    const auto path = applied_policy_path(state_dir);
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);  // systemd's StateDirectory= makes it otherwise
    if (auto e = windows::write_file_atomically(path, text); !e.empty())
        Event(Kind::boot_state_write_failed).kv(Key::file, path).kv(Key::error, e);
}

BootPlan plan_boot(const std::string& state_dir) {
    BootPlan plan;
    plan.file = applied_policy_path(state_dir);
    std::error_code ec;
    if (!std::filesystem::exists(plan.file, ec) && !ec) {
        plan.file.clear();
        plan.ruleset = policy::default_deny();
        return plan;
    }
    // A saved policy this version no longer accepts (or an unreadable file) is not guessed at.
    auto loaded = policy::load_file(plan.file);
    if (!loaded.policy || loaded.policy->gateway.mode == policy::Mode::learn) {
        plan.ruleset = policy::default_deny();
        return plan;
    }
    plan.persisted = true;
    plan.hash = policy::policy_hash(loaded.text);
    // Island mode holds across reboots; an unreadable marker counts as on (the closed side).
    const bool island = std::filesystem::exists(island_state_path(state_dir), ec) || ec;
    plan.mode = island ? policy::Mode::island : loaded.policy->gateway.mode;
    plan.ruleset = policy::compile(*loaded.policy, plan.mode);
    return plan;
}

int load_boot_ruleset(const std::string& state_dir) {
    auto plan = plan_boot(state_dir);
    if (auto r = nft::apply(plan.ruleset); !r) {
        Event(Kind::boot_ruleset_failed).kv(Key::error, r.error().message);
        return Exit::runtime;
    }
    Event e(Kind::boot_ruleset);
    e.kv(Key::cause, plan.persisted ? "persisted" : "default_deny");
    if (!plan.file.empty()) e.kv(Key::file, plan.file);
    if (plan.persisted) e.kv(Key::hash, plan.hash).kv(Key::mode, policy::to_string(plan.mode));
    return Exit::ok;
}

int print_devices(const policy::Policy& p) {
    const auto& g = p.gateway;
    std::printf("%s\n%s\n%s\n", g.bridge.c_str(), g.modality_port.c_str(), g.network_port.c_str());
    if (g.management) std::printf("%s\n", g.management->interface.c_str());
    return Exit::ok;
}

}  // namespace modgate::daemon
