// The runtime island switch: every frame to and from the modalities dropped in the kernel in
// one transaction, every live session cut, until switched off. Persisted in the state
// directory, so it holds across reloads, restarts and reboots.
#include "gateway/daemon/core.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "gateway/control/exit_code.hpp"
#include "gateway/daemon/boot.hpp"
#include "gateway/events/events.hpp"
#include "gateway/windows/atomic_file.hpp"
#include "policy/compile.hpp"

namespace modgate::daemon {

using events::Event;
using events::Key;
using events::Kind;

namespace {

// "key=value" lines: who switched island mode on, when and why.
std::map<std::string, std::string> read_island_record(const std::string& path) {
    std::map<std::string, std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
        if (auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    return out;
}

}  // namespace

// Still on from before a restart (or a reboot): on again before the first apply.
void Daemon::restore_island() {
    std::error_code ec;
    if (!std::filesystem::exists(island_state_path(opt_.state_dir), ec) && !ec) return;
    island_ = true;  // an unreadable file keeps it on too: closed is the safe side
    auto r = read_island_record(island_state_path(opt_.state_dir));
    Event e(Kind::island_on);
    e.kv(Key::cause, "restored");
    if (auto uid = r.find("uid"); uid != r.end()) e.kv(Key::uid, static_cast<std::uint64_t>(std::strtoull(uid->second.c_str(), nullptr, 10)));
    e.kv(Key::user, r["user"]).kv(Key::reason, r["reason"]);
}

control::Reply Daemon::island_request(const control::Fields& f, const control::Caller& c) {
    auto state = f.find("state");
    if (state == f.end() || (state->second != "on" && state->second != "off"))
        return {Exit::usage, "island needs state=on or state=off", {}};
    auto reason = f.find("reason");
    const bool on = state->second == "on";
    if (on && (reason == f.end() || reason->second.empty())) return {Exit::usage, "island on needs a reason", {}};
    if (auto r = refuse_unless_admin(c, on ? "island on" : "island off")) return *r;
    return set_island(on, on ? reason->second : std::string{}, c);
}

control::Reply Daemon::set_island(bool on, const std::string& reason, const control::Caller& c) {
    if (!on && policy().gateway.mode == policy::Mode::island)
        return {Exit::invalid, "the policy itself says mode = \"island\": change it and reload to leave island mode", {}};
    if (on == island_) return {Exit::ok, {}, fmt::format("island mode is already {}\n", on ? "on" : "off")};
    const auto path = island_state_path(opt_.state_dir);
    if (on) {
        auto record = fmt::format("reason={}\nuid={}\nuser={}\n", reason, c.uid, c.user);
        if (auto e = windows::write_file_atomically(path, record); !e.empty()) {
            Event(Kind::island_failed).kv(Key::stage, "save").kv(Key::error, e);
            return {Exit::runtime, "island mode could not be saved (nothing changed): " + e, {}};
        }
    }
    island_ = on;
    auto rs = policy::compile(policy(), effective_mode(policy()));
    if (auto s = deps_.kernel.apply(rs); !s) {
        island_ = !on;
        std::error_code ec;
        if (on) std::filesystem::remove(path, ec);
        Event(Kind::island_failed).kv(Key::stage, "apply").kv(Key::error, s.error().message);
        return {Exit::runtime, "the kernel refused the ruleset (nothing changed): " + s.error().message, {}};
    }
    compiled_ = std::move(rs);
    if (on) {
        Event(Kind::island_on).kv(Key::cause, "manual").kv(Key::uid, static_cast<std::uint64_t>(c.uid))
            .kv(Key::user, c.user).kv(Key::reason, reason);
        if (proxy_) proxy_->cut_all();
        return {Exit::ok, {}, "island mode on: every frame to and from the modalities is dropped\n"};
    }
    std::error_code ec;
    std::filesystem::remove(path, ec);  // if it stays, a restart comes back in island: the closed side
    if (ec) Event(Kind::island_failed).kv(Key::stage, "save").kv(Key::error, path + ": " + ec.message());
    Event(Kind::island_off).kv(Key::uid, static_cast<std::uint64_t>(c.uid)).kv(Key::user, c.user);
    return {Exit::ok, {}, fmt::format("island mode off: mode {} again\n", policy::to_string(policy().gateway.mode))};
}

}  // namespace modgate::daemon
