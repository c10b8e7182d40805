// modgated's start-up, reload and status. Fail closed throughout: the ports come up only after
// the first apply, a bad policy never replaces a good one, and any fatal error takes the ports
// down.
#include "gateway/daemon/core.hpp"
#include "gateway/control/exit_code.hpp"

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <thread>

#include <systemd/sd-daemon.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gateway/daemon/boot.hpp"
#include "gateway/daemon/event_feed.hpp"
#include "gateway/events/bus.hpp"
#include "gateway/events/events.hpp"
#include "gateway/events/sink.hpp"
#include "gateway/host/host.hpp"
#include "gateway/privsep/proxy_process.hpp"
#include "policy/compile.hpp"

namespace modgate::daemon {

using events::Event;
using events::Key;
using events::Kind;
using events::Level;

Daemon::Daemon(const Options& opt, policy::Policy initial, std::string hash, Deps deps, std::string text)
    : opt_(opt),
      deps_(deps),
      state_(std::make_shared<const proxy::PolicyState>(std::move(initial))),
      text_(std::move(text)),
      signals_(io_, SIGHUP, SIGTERM, SIGINT),
      watchdog_(io_),
      lag_(io_, deps.metrics),
      control_(io_, opt.control_socket),
      windows_(io_, opt.state_dir, proxy_hooks(), deps.window_sets),
      resolver_(opt.state_dir,
                [this](const std::string& vendor, std::vector<policy::Ipv4> addrs) {
                    windows_.set_resolved(vendor, std::move(addrs));
                }),
      tamper_(io_, deps.kernel, [this]() -> const ruleset::Ruleset& { return compiled_; },
              [this] {
                  Event(Kind::ruleset_reapplied).kv(Key::hash, hash_);
                  windows_.kernel_replaced();  // open windows' elements went with the old tables
              }),
      drops_(io_, deps.kernel),
      hash_(std::move(hash)) {}

// The policy's mode, raised to island while the runtime island switch is on.
policy::Mode Daemon::effective_mode(const policy::Policy& p) const {
    return island_ ? policy::Mode::island : p.gateway.mode;
}

privsep::PolicyMsg Daemon::policy_msg() const {
    return {hash_, policy().source, text_, static_cast<std::uint8_t>(effective_mode(policy()))};
}

// The window manager tells the proxy process which windows are open and whose sessions end.
WindowHooks Daemon::proxy_hooks() {
    return {[this](const std::vector<privsep::OpenWindow>& open) {
                if (proxy_) proxy_->set_windows(open);
            },
            [this](const std::string& modality, const std::string& vendor) {
                if (proxy_) proxy_->cut(modality, vendor);
            }};
}

int Daemon::start() {
    restore_island();
    const auto& p = policy();
    auto& kernel = deps_.kernel;
    compiled_ = policy::compile(p, effective_mode(p));
    // A bridge without rules forwards everything: the ports stay down until the ruleset is in.
    if (!kernel.tables_present(compiled_)) {
        if (auto s = host::set_ports(p.gateway, false, deps_.host); !s) return fatal("ports_down", s.error());
    }
    if (auto s = host::prepare(p, deps_.host); !s) return fatal("host_setup", s.error());
    if (deps_.proxies) {
        proxy_ = std::make_unique<privsep::Supervisor>(io_, deps_.proxy_identity,
                                                       [this](const privsep::ResolvedMsg& r) { resolver_.result(r); });
        if (auto e = proxy_->start(policy_msg(), {}); !e.empty()) return fatal("proxy_listen", e);
    }
    if (auto s = kernel.apply(compiled_); !s) return fatal("apply", s.error().message);
    Event(Kind::ruleset_applied).kv(Key::policy, p.source).kv(Key::hash, hash_)
        .kv(Key::mode, policy::to_string(effective_mode(p)));
    save_applied_policy(opt_.state_dir, text_);  // what the next boot loads before any port is up
    windows_.set_policy(state_, compiled_);
    resolver_.set_policy(p);
    if (auto s = host::set_ports(p.gateway, true, deps_.host); !s) return fatal("ports_up", s.error());
    Event(Kind::ports_up).kv(Key::bridge, p.gateway.bridge).kv(Key::modality_port, p.gateway.modality_port)
        .kv(Key::network_port, p.gateway.network_port);
    tamper_.start();
    drops_.start();
    wait_signal();
    start_watchdog();
    lag_.start();
    if (auto e = serve_control(); !e.empty()) return fatal("control_socket", e);
    Event(Kind::started).kv(Key::policy, p.source).kv(Key::hash, hash_).kv(Key::proxy_port, p.gateway.proxy_port);
    return Exit::ok;
}

int Daemon::run() {
    if (int rc = start(); rc != 0) return rc;
    sd_notify(0, "READY=1");
    try {
        io_.run();
    } catch (const std::exception& e) {
        return fatal("exception", e.what());
    }
    stop();
    return Exit::ok;
}

void Daemon::stop() {
    // Stopping takes the ports down and leaves the ruleset in force: while modgated is not
    // running nothing is forwarded, even if someone flushes the ruleset meanwhile (Debian's
    // nftables.service does). A crash leaves the ports up with the ruleset in force: with no
    // proxy listening, the diverted flows find no socket and are dropped.
    lower_ports("stopped");
    if (proxy_) proxy_->stop();
    Event(Kind::stopped).kv(Key::reason, stop_reason_);
}

std::string Daemon::serve_control() {
    std::error_code dir_ec;
    std::filesystem::create_directories(std::filesystem::path(opt_.control_socket).parent_path(), dir_ec);
    if (auto e = control_.listen(); !e.empty()) return e;
    control_.on("status", [this](const control::Fields&, const control::Caller&) {
        return control::Reply{Exit::ok, {}, control::to_json(status()).dump() + "\n"};
    });
    control_.on("window-open", [this](const control::Fields& f, const control::Caller& c) { return windows_.open(f, c); });
    control_.on("window-close", [this](const control::Fields& f, const control::Caller& c) { return windows_.close(f, c); });
    control_.on("window-list", [this](const control::Fields&, const control::Caller&) {
        return control::Reply{Exit::ok, {}, control::to_json(windows_.list()).dump() + "\n"};
    });
    control_.on("reload", [this](const control::Fields&, const control::Caller& c) {
        if (auto r = refuse_unless_admin(c, "reload")) return *r;
        Event(Kind::reload_requested).kv(Key::uid, static_cast<std::uint64_t>(c.uid)).kv(Key::user, c.user);
        return reload();
    });
    control_.on("island", [this](const control::Fields& f, const control::Caller& c) { return island_request(f, c); });
    serve_events();
    // Test builds only: the proxy attempts what its confinement must stop.
    if (privsep::probes_built() && proxy_)
        control_.on("probe", [this](const control::Fields& f, const control::Caller& c) {
            if (auto r = refuse_unless_admin(c, "probe the proxy")) return *r;
            auto name = f.find("name");
            if (name == f.end()) return control::Reply{Exit::usage, "probe needs name=", {}};
            proxy_->probe(name->second);
            return control::Reply{Exit::ok, {}, {}};
        });
    return {};
}

void Daemon::serve_events() {
    control_.on("events", [this](const control::Fields& f, const control::Caller& c) {
        if (auto r = refuse_unless_admin(c, "read events")) return *r;
        control::Reply refusal;
        auto filter = parse_filter(f, policy(), refusal);
        return filter ? list_events(*filter) : refusal;
    });
    control_.on_stream("events-follow", [this](const control::Fields& f, const control::Caller& c,
                                               const std::shared_ptr<control::Stream>& out) {
        if (auto r = refuse_unless_admin(c, "read events")) return *r;
        control::Reply refusal;
        auto filter = parse_filter(f, policy(), refusal);
        return filter ? follow_events(io_, *filter, out) : refusal;
    });
}

std::optional<control::Reply> Daemon::refuse_unless_admin(const control::Caller& c, std::string_view what) const {
    const auto& group = policy().gateway.admin_group;
    if (c.root_or_member(group)) return std::nullopt;
    Event(Kind::control_refused).kv(Key::action, what).kv(Key::uid, static_cast<std::uint64_t>(c.uid))
        .kv(Key::user, c.user).kv(Key::why, fmt::format("not root and not in group '{}'", group));
    return control::Reply{Exit::not_authorised, fmt::format("user {} may not {} (root or group '{}' only)", c.user, what, group), {}};
}

int Daemon::fatal(std::string_view what, std::string_view error) {
    Event(Kind::fatal).kv(Key::stage, what).kv(Key::error, error);
    if (proxy_) proxy_->stop();
    lower_ports(what);
    return Exit::runtime;
}

void Daemon::lower_ports(std::string_view reason) {
    if (auto s = host::set_ports(policy().gateway, false, deps_.host); !s)
        Event(Kind::ports_down_failed).kv(Key::error, s.error());
    else
        Event(Kind::ports_down).kv(Key::reason, reason);
}

void Daemon::wait_signal() {
    signals_.async_wait([this](const error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            (void)reload();
            wait_signal();
            return;
        }
        stop_reason_ = sig == SIGTERM ? "SIGTERM" : "SIGINT";
        sd_notify(0, "STOPPING=1");
        io_.stop();
    });
}

void Daemon::start_watchdog() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0) return;
    watchdog_interval_ = std::chrono::microseconds(usec / 2);
    ping_watchdog();
}

void Daemon::ping_watchdog() {
    sd_notify(0, "WATCHDOG=1");
    watchdog_.expires_after(watchdog_interval_);
    watchdog_.async_wait([this](const error_code& ec) {
        if (!ec) ping_watchdog();
    });
}

control::Reply Daemon::reject_reload(const policy::LoadResult& r) {
    for (const auto& d : r.diagnostics.all()) {
        if (d.severity != policy::Severity::error) continue;
        Event(Kind::reload_rejected).kv(Key::file, r.source).kv(Key::line, static_cast<unsigned>(d.loc.line))
            .kv(Key::col, static_cast<unsigned>(d.loc.col)).kv(Key::error, d.message);
    }
    Event(Kind::reload_rejected).kv(Key::file, r.source)
        .kv(Key::errors, static_cast<std::uint64_t>(r.diagnostics.errors())).kv(Key::kept, hash_);
    return {Exit::invalid, "policy rejected; the running policy is kept", r.report()};
}

namespace {

bool restart_only_change(const policy::Gateway& old, const policy::Gateway& next) {
    return old.bridge != next.bridge || old.modality_port != next.modality_port ||
           old.network_port != next.network_port || old.proxy_port != next.proxy_port;
}

}  // namespace

control::Reply Daemon::reload() {
    auto r = policy::load_file(opt_.policy_path);
    if (!r.policy) return reject_reload(r);
    if (restart_only_change(policy().gateway, r.policy->gateway)) {
        Event(Kind::reload_rejected).kv(Key::file, r.source)
            .kv(Key::error, "bridge, ports and proxy_port change only with a restart").kv(Key::kept, hash_);
        return {Exit::invalid, "bridge, ports and proxy_port change only with a restart; the running policy is kept", {}};
    }
    auto rs = policy::compile(*r.policy, effective_mode(*r.policy));
    if (auto s = host::prepare(*r.policy, deps_.host); !s) {
        Event(Kind::reload_failed).kv(Key::stage, "host_setup").kv(Key::file, r.source).kv(Key::error, s.error())
            .kv(Key::kept, hash_);
        return {Exit::runtime, "host set-up failed: " + s.error(), {}};
    }
    if (auto s = deps_.kernel.apply(rs); !s) {
        reload_apply_failed(r.source, s.error());
        return {Exit::runtime, "the kernel refused the ruleset (nothing changed): " + s.error().message, {}};
    }
    compiled_ = std::move(rs);
    auto new_hash = policy::policy_hash(r.text);
    return put_in_force(std::move(*r.policy), std::move(new_hash), std::move(r.text));
}

// The refused rule's policy line and column go in the event, so a SIEM can point at the line.
void Daemon::reload_apply_failed(const std::string& file, const ApplyError& error) {
    Event e(Kind::reload_failed);
    e.kv(Key::stage, "apply").kv(Key::file, file);
    if (error.origin.line) e.kv(Key::line, error.origin.line).kv(Key::col, error.origin.col);
    e.kv(Key::error, error.message).kv(Key::kept, hash_);
}

control::Reply Daemon::put_in_force(policy::Policy next, std::string new_hash, std::string text) {
    auto previous = std::exchange(hash_, std::move(new_hash));
    state_ = std::make_shared<const proxy::PolicyState>(std::move(next));
    text_ = std::move(text);
    save_applied_policy(opt_.state_dir, text_);
    windows_.set_policy(state_, compiled_);
    resolver_.set_policy(state_->policy);
    // The proxy ends the sessions whose flow the new policy no longer allows.
    std::uint64_t closed = 0;
    if (proxy_) closed = proxy_->set_policy(policy_msg()).value_or(0);
    Event(Kind::reload_applied).kv(Key::hash, hash_).kv(Key::previous, previous)
        .kv(Key::closed_sessions, closed).kv(Key::mode, policy::to_string(effective_mode(state_->policy)));
    return {Exit::ok, {}, fmt::format("policy {} applied (hash {}), {} sessions closed\n", opt_.policy_path, hash_, closed)};
}

namespace {

void fill_metrics(control::Status& s, const metrics::Snapshot& m) {
    auto t = m.flow_totals();
    using metrics::FlowOutcome;
    s.proxy.accepted = t.outcomes[static_cast<std::size_t>(FlowOutcome::opened)];
    s.proxy.closed = t.outcomes[static_cast<std::size_t>(FlowOutcome::closed)];
    s.proxy.upstream_failed = t.outcomes[static_cast<std::size_t>(FlowOutcome::upstream_failed)];
    s.proxy.refused = m.refused_total();
    s.proxy.bytes_up = t.bytes_up;
    s.proxy.bytes_down = t.bytes_down;
    for (const auto& [k, v] : m.drops_logged)
        s.drops_logged[fmt::format("{}:{}", policy::to_string(k.first), policy::to_string(k.second))] = v;
    if (m.drops_logged_unknown) s.drops_logged["unknown"] = m.drops_logged_unknown;
    s.associations = m.associations;
    for (const auto& [k, v] : m.dimse) {
        if (v.forwarded) s.dimse_forwarded[k] = v.forwarded;
        if (v.refused) s.dimse_refused[k] = v.refused;
    }
    s.loop_max_lag_ms = m.loop_max_lag_ms;
    s.nflog_lost = m.nflog_lost;
}

}  // namespace

control::Status Daemon::status() {
    const auto& p = policy();
    control::Status s;
    s.uptime_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    s.policy_path = opt_.policy_path;
    s.hash = hash_;
    s.mode = policy::to_string(effective_mode(p));
    s.policy_mode = policy::to_string(p.gateway.mode);
    for (const auto& m : p.modalities) {
        std::uint64_t allows = 0;
        for (const auto& a : p.allows) allows += a.modality == m.name;
        s.modalities.push_back({m.name, m.ip.addr.str(), m.mac.str(), allows});
    }
    s.drops = deps_.kernel.drop_counters(compiled_);
    s.drops_available = !s.drops.empty();
    auto m = deps_.metrics.snapshot();
    if (proxy_) {
        auto c = proxy_->counters();
        metrics::add(m, c.snapshot);
        s.proxy.live = c.live_sessions;
        s.proxy.pid = proxy_->pid() > 0 ? proxy_->pid() : 0;
        s.proxy.restarts = proxy_->restarts();
    }
    fill_metrics(s, m);
    for (const auto& sink : events::Bus::get().sinks()) s.sinks[sink->name()] = {sink->written(), sink->dropped()};
    s.windows = windows_.list();
    return s;
}

bool start_events(const Options& opt, const policy::Policy& p, metrics::Registry& registry) {
    auto& bus = events::Bus::get();
    bus.observe([&registry](const events::Record& r) { registry.observe(r); });
    std::string error;
    auto sinks = make_sinks(p.logging, opt.event_file, error);
    if (sinks.empty()) {
        bus.set_sinks({events::LogfmtSink::to_stderr(Level::info)});
        Event(Kind::refused_to_start).kv(Key::error, error);
        return false;
    }
    bus.set_sinks(std::move(sinks));
    return true;
}

namespace {

// One daemon per state directory: a second one would fight the first over the ruleset.
bool lock_state_dir(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    int lock = ::open((dir + "/modgated.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock >= 0 && ::flock(lock, LOCK_EX | LOCK_NB) == 0) return true;
    Event(Kind::refused_to_start).kv(Key::error, fmt::format("another modgated holds {}/modgated.lock", dir));
    return false;
}

// systemd-networkd creates the bridge and enslaves the ports after the devices appear; a start
// that races it waits (bounded) instead of failing into a restart loop.
host::Status wait_for_interfaces(const Options& opt, const policy::Gateway& g, host::HostNet& net) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::seconds(opt.interface_wait_s);
    auto s = host::check_interfaces(g, net);
    if (s || opt.interface_wait_s == 0) return s;
    Event(Kind::waiting_for_interfaces).kv(Key::error, s.error());
    sd_notifyf(0, "STATUS=waiting for interfaces: %s", s.error().c_str());
    while (!s && clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        s = host::check_interfaces(g, net);
    }
    return s;
}

std::unique_ptr<Kernel> open_for(const Options& opt, const policy::Policy& p, host::HostNet& net) {
    if (auto s = wait_for_interfaces(opt, p.gateway, net); !s) {
        Event(Kind::refused_to_start).kv(Key::error, s.error());
        return nullptr;
    }
    if (!lock_state_dir(opt.state_dir)) return nullptr;
    auto kernel = open_kernel(policy::compile(p), p.gateway.drop_log.group);
    if (!kernel) Event(Kind::refused_to_start).kv(Key::error, kernel.error());
    return kernel ? std::move(*kernel) : nullptr;
}

}  // namespace

int run(const Options& opt, policy::LoadResult loaded) {
    // A file sink whose reader went away (a FIFO, a pipe) must cost a line, not the daemon.
    std::signal(SIGPIPE, SIG_IGN);
    static metrics::Registry registry;  // the bus outlives run(): so does what it feeds
    auto& initial = *loaded.policy;
    if (!start_events(opt, initial, registry)) return Exit::runtime;
    // The policy text hash identifies what is loaded in status and events.
    auto hash = policy::policy_hash(loaded.text);
    privsep::Identity identity;
    std::string error;
    auto net = host::open_netlink_host_net();
    std::unique_ptr<Kernel> kernel;
    if (!net) Event(Kind::refused_to_start).kv(Key::error, "rtnetlink: " + net.error());
    else kernel = open_for(opt, initial, **net);
    // The proxy's empty root lives in the state directory, which open_for() made sure of.
    if (kernel && !privsep::proxy_identity(opt.proxy_user, opt.state_dir + "/empty", identity, error)) {
        Event(Kind::refused_to_start).kv(Key::error, error);
        kernel.reset();
    }
    if (!kernel) {
        events::Bus::get().flush();
        return Exit::runtime;
    }
    Daemon d(opt, std::move(initial), hash, Deps{*kernel, **net, registry, true, nullptr, identity},
             std::move(loaded.text));
    int rc = d.run();
    events::Bus::get().flush();
    return rc;
}

}  // namespace modgate::daemon
