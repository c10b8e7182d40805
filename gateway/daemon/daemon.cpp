// modgated's event loop. Fail closed throughout: the ports come up only after the first apply,
// a bad policy never replaces a good one, and any fatal error takes the ports down.
#include "gateway/daemon/daemon.hpp"

#include <csignal>
#include <filesystem>

#include <systemd/sd-daemon.h>

#include "gateway/daemon/kernel.hpp"
#include "gateway/events/events.hpp"
#include "gateway/host/host.hpp"
#include "gateway/proxy/tcp_proxy.hpp"
#include "gateway/proxy/udp_proxy.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"

namespace modgate::daemon {
namespace {

using events::Event;
using events::Level;

// "modgate:flow:in" -> {"flow", "in"}
std::pair<std::string, std::string> split_prefix(const std::string& prefix) {
    auto a = prefix.find(':');
    auto b = prefix.rfind(':');
    if (a == std::string::npos || a == b) return {prefix, ""};
    return {prefix.substr(a + 1, b - a - 1), prefix.substr(b + 1)};
}

class Daemon {
public:
    Daemon(const Options& opt, policy::Policy initial, std::unique_ptr<Kernel> kernel)
        : opt_(opt),
          kernel_(std::move(kernel)),
          runtime_(std::make_shared<const proxy::PolicyState>(std::move(initial))),
          tcp_(io_, runtime_),
          udp_(io_, runtime_),
          signals_(io_, SIGHUP, SIGTERM, SIGINT),
          monitor_(io_),
          nflog_(io_),
          watchdog_(io_) {}

    int run() {
        const auto& p = policy();
        const auto rs = policy::compile(p);
        // Before the first apply the ports stay down: a bridge without rules forwards everything.
        bool protected_already = kernel_->tables_present(rs);
        if (!protected_already) {
            if (auto s = host::set_ports(p.gateway, false); !s) return fatal("ports_down", s.error());
        }
        if (auto s = host::prepare(p); !s) return fatal("host_setup", s.error());
        if (auto e = tcp_.listen(p.gateway.proxy_port); !e.empty()) return fatal("proxy_listen", e);
        if (auto e = udp_.listen(p.gateway.proxy_port); !e.empty()) return fatal("proxy_listen", e);
        if (auto s = kernel_->apply(rs); !s) return fatal("apply", s.error());
        Event("daemon", "ruleset_applied").kv("policy", p.source).kv("hash", hash_).kv("mode", policy::to_string(p.gateway.mode));
        if (auto s = host::set_ports(p.gateway, true); !s) return fatal("ports_up", s.error());
        Event("daemon", "ports_up").kv("bridge", p.gateway.bridge).kv("modality_port", p.gateway.modality_port)
            .kv("network_port", p.gateway.network_port);

        monitor_.assign(kernel_->monitor_fd());
        nflog_.assign(kernel_->nflog_fd());
        wait_monitor();
        wait_nflog();
        wait_signal();
        start_watchdog();
        sd_notify(0, "READY=1");
        Event("daemon", "started").kv("policy", p.source).kv("hash", hash_).kv("proxy_port", p.gateway.proxy_port);
        try {
            io_.run();
        } catch (const std::exception& e) {
            return fatal("exception", e.what());
        }
        // Stopping leaves the ruleset and the ports as they are: with no proxy listening, the
        // diverted flows find no socket and are dropped; nothing opens.
        Event("daemon", "stopped").kv("reason", stop_reason_);
        return exit_code_;
    }

private:
    const policy::Policy& policy() const { return runtime_.state()->policy; }

    int fatal(std::string_view what, std::string_view error) {
        Event("daemon", "fatal", Level::critical).kv("stage", what).kv("error", error);
        if (auto s = host::set_ports(policy().gateway, false); !s)
            Event("daemon", "ports_down_failed", Level::critical).kv("error", s.error());
        else
            Event("daemon", "ports_down", Level::warning).kv("reason", what);
        return 3;
    }

    void wait_signal() {
        signals_.async_wait([this](const error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                reload();
                wait_signal();
                return;
            }
            stop_reason_ = sig == SIGTERM ? "SIGTERM" : "SIGINT";
            sd_notify(0, "STOPPING=1");
            io_.stop();
        });
    }

    void wait_monitor() {
        monitor_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
            if (ec) return;
            auto change = kernel_->process_monitor();
            if (!change.empty()) {
                Event("daemon", "ruleset_tampered", Level::critical).kv("change", change);
                auto rs = policy::compile(policy());
                if (auto s = kernel_->apply(rs); !s)
                    Event("daemon", "reapply_failed", Level::critical).kv("error", s.error());
                else
                    Event("daemon", "ruleset_reapplied", Level::warning).kv("hash", hash_);
            }
            wait_monitor();
        });
    }

    void wait_nflog() {
        nflog_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
            if (ec) return;
            kernel_->process_nflog([](const DropRecord& r) {
                auto [rule, dir] = split_prefix(r.prefix);
                Event e("filter", "drop");
                e.kv("rule", rule).kv("dir", dir);
                if (!r.in.empty()) e.kv("in", r.in);
                e.kv("proto", r.proto);
                if (!r.src.empty()) e.kv("src", r.src).kv("dst", r.dst);
                if (r.dport) e.kv("sport", static_cast<unsigned>(r.sport)).kv("dport", static_cast<unsigned>(r.dport));
            });
            wait_nflog();
        });
    }

    void start_watchdog() {
        std::uint64_t usec = 0;
        if (sd_watchdog_enabled(0, &usec) <= 0) return;
        watchdog_interval_ = std::chrono::microseconds(usec / 2);
        ping_watchdog();
    }

    void ping_watchdog() {
        sd_notify(0, "WATCHDOG=1");
        watchdog_.expires_after(watchdog_interval_);
        watchdog_.async_wait([this](const error_code& ec) {
            if (!ec) ping_watchdog();
        });
    }

    void reload() {
        auto r = policy::load_file(opt_.policy_path);
        if (!r.policy) {
            for (const auto& d : r.diagnostics.all()) {
                if (d.severity != policy::Severity::error) continue;
                Event("daemon", "reload_rejected", Level::error)
                    .kv("file", r.source).kv("line", static_cast<unsigned>(d.loc.line))
                    .kv("col", static_cast<unsigned>(d.loc.col)).kv("error", d.message);
            }
            Event("daemon", "reload_rejected", Level::error)
                .kv("file", r.source).kv("errors", static_cast<std::uint64_t>(r.diagnostics.errors()))
                .kv("kept", hash_);
            return;
        }
        const auto& old = policy().gateway;
        const auto& next = r.policy->gateway;
        if (old.bridge != next.bridge || old.modality_port != next.modality_port ||
            old.network_port != next.network_port || old.proxy_port != next.proxy_port) {
            Event("daemon", "reload_rejected", Level::error)
                .kv("file", r.source).kv("error", "bridge, ports and proxy_port change only with a restart").kv("kept", hash_);
            return;
        }
        auto rs = policy::compile(*r.policy);
        if (auto s = host::prepare(*r.policy); !s) {
            Event("daemon", "reload_failed", Level::error).kv("stage", "host_setup").kv("error", s.error()).kv("kept", hash_);
            return;
        }
        if (auto s = kernel_->apply(rs); !s) {
            Event("daemon", "reload_failed", Level::error).kv("stage", "apply").kv("error", s.error()).kv("kept", hash_);
            return;
        }
        auto new_hash = policy::policy_hash(r.text);
        auto state = std::make_shared<const proxy::PolicyState>(std::move(*r.policy));
        runtime_.set_state(state);
        // Sessions whose flow the new policy no longer allows end now.
        auto gone = [&state](const proxy::FlowInfo& f) {
            return !state->index.match(f.client.addr, f.server.addr, f.proto, f.server.port);
        };
        auto closed = runtime_.close_if(gone, "policy reload") + udp_.close_if(gone, "policy reload");
        Event("daemon", "reload_applied").kv("hash", new_hash).kv("previous", hash_)
            .kv("closed_sessions", static_cast<std::uint64_t>(closed));
        hash_ = new_hash;
    }

    Options opt_;
    std::unique_ptr<Kernel> kernel_;
    asio::io_context io_;
    proxy::Runtime runtime_;
    proxy::TcpProxy tcp_;
    proxy::UdpProxy udp_;
    asio::signal_set signals_;
    asio::posix::stream_descriptor monitor_, nflog_;
    asio::steady_timer watchdog_;
    std::chrono::microseconds watchdog_interval_{0};
    std::string hash_;
    std::string stop_reason_ = "io stopped";
    int exit_code_ = 0;

public:
    void set_hash(std::string h) { hash_ = std::move(h); }
};

}  // namespace

int run(const Options& opt, policy::Policy initial) {
    events::init(opt.event_file);
    if (auto s = host::check_interfaces(initial.gateway); !s) {
        Event("daemon", "refused_to_start", Level::critical).kv("error", s.error());
        return 3;
    }
    std::error_code ec;
    std::filesystem::create_directories(opt.state_dir, ec);
    auto kernel = open_kernel(initial.gateway.drop_log.group);
    if (!kernel) {
        Event("daemon", "refused_to_start", Level::critical).kv("error", kernel.error());
        return 3;
    }
    // The policy text hash identifies what is loaded in status and events.
    std::string hash;
    {
        auto r = policy::load_file(opt.policy_path);
        hash = policy::policy_hash(r.text);
    }
    Daemon d(opt, std::move(initial), std::move(*kernel));
    d.set_hash(hash);
    return d.run();
}

}  // namespace modgate::daemon
