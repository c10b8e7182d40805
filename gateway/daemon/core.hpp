// modgated's core, split by concern: start-up and reload here; tamper handling (TamperGuard),
// NFLOG to events (DropFeed), windows (WindowManager) and host set-up (host::) each talk to the
// kernel only through an interface (Kernel, host::HostNet) that tests replace with fakes.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "gateway/control/server.hpp"
#include "gateway/control/status.hpp"
#include "gateway/daemon/daemon.hpp"
#include "gateway/daemon/drop_feed.hpp"
#include "gateway/daemon/kernel.hpp"
#include "gateway/daemon/tamper_guard.hpp"
#include "gateway/daemon/vendor_resolver.hpp"
#include "gateway/daemon/window_manager.hpp"
#include "gateway/host/host_net.hpp"
#include "gateway/metrics/registry.hpp"
#include "gateway/privsep/supervisor.hpp"
#include "gateway/proxy/lag_probe.hpp"
#include "gateway/proxy/runtime.hpp"
#include "policy/load.hpp"

namespace modgate::daemon {

// What the core is given instead of reaching for the kernel itself.
struct Deps {
    Kernel& kernel;
    host::HostNet& host;
    metrics::Registry& metrics;
    // The proxy process (privilege separation) with its transparent listeners; unit tests of the
    // control plane run without it (the data plane is shown by the lab tests).
    bool proxies = true;
    // The window set elements' door; null: netlink.
    std::shared_ptr<windows::KernelSets> window_sets = nullptr;
    // Who the proxy process runs as, and its empty root.
    privsep::Identity proxy_identity = {};
};

class Daemon {
public:
    // `text`: the policy's text, which the proxy process parses for itself.
    Daemon(const Options& opt, policy::Policy initial, std::string hash, Deps deps, std::string text = {});
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Fail-closed start-up: ports down unless our tables are already in, host set-up, proxies,
    // the first apply, then the ports up; the watchers and the control socket. 0, or the exit
    // code of a fatal error (the ports are down then).
    int start();
    // start(), then the event loop until SIGTERM/SIGINT, then stop().
    int run();
    // The orderly end: the ports down, the ruleset left in force, the proxy process stopped.
    void stop();

    asio::io_context& io() { return io_; }
    control::Reply reload();
    control::Status status();
    const ruleset::Ruleset& compiled() const { return compiled_; }
    const std::string& hash() const { return hash_; }
    TamperGuard& tamper() { return tamper_; }
    WindowManager& windows() { return windows_; }
    DropFeed& drops() { return drops_; }

private:
    // The bridge ports down, with a ports_down event (or ports_down_failed).
    void lower_ports(std::string_view reason);
    const policy::Policy& policy() const { return state_->policy; }
    policy::Mode effective_mode(const policy::Policy& p) const;
    privsep::PolicyMsg policy_msg() const;
    WindowHooks proxy_hooks();
    std::string serve_control();
    void serve_events();
    std::optional<control::Reply> refuse_unless_admin(const control::Caller& c, std::string_view what) const;
    int fatal(std::string_view what, std::string_view error);
    void wait_signal();
    void start_watchdog();
    void ping_watchdog();
    control::Reply reject_reload(const policy::LoadResult& r);
    void reload_apply_failed(const std::string& file, const ApplyError& error);
    control::Reply put_in_force(policy::Policy next, std::string new_hash, std::string text);
    // The runtime island switch: persisted in STATE_DIR/island.state, so it survives reloads and
    // restarts until switched off.
    control::Reply set_island(bool on, const std::string& reason, const control::Caller& c);
    control::Reply island_request(const control::Fields& f, const control::Caller& c);
    void restore_island();

    Options opt_;
    Deps deps_;
    asio::io_context io_;
    std::shared_ptr<const proxy::PolicyState> state_;
    std::string text_;  // the policy's text
    std::unique_ptr<privsep::Supervisor> proxy_;  // null without proxies
    asio::signal_set signals_;
    asio::steady_timer watchdog_;
    proxy::LagProbe lag_;
    control::Server control_;
    WindowManager windows_;
    VendorResolver resolver_;
    TamperGuard tamper_;
    DropFeed drops_;
    std::chrono::microseconds watchdog_interval_{0};
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    ruleset::Ruleset compiled_;  // what the kernel holds (re-applied when someone alters it)
    std::string hash_;
    bool island_ = false;  // the runtime island switch (its command comes with the island work)
    std::string stop_reason_ = "io stopped";
};

// stderr always, every file sink of the policy and --event-file; the registry counts every
// event. False (with a refused_to_start event on stderr) when a file cannot be opened.
bool start_events(const Options& opt, const policy::Policy& p, metrics::Registry& registry);

}  // namespace modgate::daemon
