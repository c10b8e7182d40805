// modgated's event loop. Fail closed throughout: the ports come up only after the first apply,
// a bad policy never replaces a good one, and any fatal error takes the ports down.
#include "gateway/daemon/daemon.hpp"

#include <csignal>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <filesystem>
#include <map>
#include <sstream>

#include <systemd/sd-daemon.h>

#include <fmt/format.h>

#include "gateway/control/server.hpp"
#include "gateway/daemon/kernel.hpp"
#include "gateway/daemon/vendor_resolver.hpp"
#include "gateway/daemon/window_manager.hpp"
#include "gateway/events/events.hpp"
#include "gateway/host/host.hpp"
#include "gateway/proxy/dicom_session.hpp"
#include "gateway/proxy/tcp_proxy.hpp"
#include "gateway/proxy/tls_session.hpp"
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
          watchdog_(io_),
          control_(io_, opt.control_socket),
          windows_(io_, opt.state_dir, runtime_),
          resolver_(io_, opt.state_dir, [this](const std::string& vendor, std::vector<policy::Ipv4> addrs) {
              windows_.set_resolved(vendor, std::move(addrs));
          }) {
        tcp_.set_handler(policy::Service::dicom, [this](asio::io_context& io, tcp::socket s, proxy::FlowInfo f,
                                                        proxy::Runtime& rt) -> std::shared_ptr<proxy::Session> {
            return std::make_shared<proxy::DicomSession>(io, std::move(s), std::move(f), rt, dicom_counts_);
        });
        tcp_.set_handler(policy::Service::tls, [](asio::io_context& io, tcp::socket s, proxy::FlowInfo f,
                                                  proxy::Runtime& rt) -> std::shared_ptr<proxy::Session> {
            return std::make_shared<proxy::TlsSession>(io, std::move(s), std::move(f), rt);
        });
        runtime_.window_match = [this](policy::Ipv4 src, policy::Ipv4 dst, std::uint16_t port,
                                       std::shared_ptr<const void>& keep) { return windows_.match(src, dst, port, keep); };
    }

    int run() {
        const auto& p = policy();
        compiled_ = policy::compile(p);
        const auto& rs = compiled_;
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
        windows_.set_policy(runtime_.state(), rs);
        resolver_.set_policy(p);
        if (auto s = host::set_ports(p.gateway, true); !s) return fatal("ports_up", s.error());
        Event("daemon", "ports_up").kv("bridge", p.gateway.bridge).kv("modality_port", p.gateway.modality_port)
            .kv("network_port", p.gateway.network_port);

        monitor_.assign(kernel_->monitor_fd());
        nflog_.assign(kernel_->nflog_fd());
        wait_monitor();
        wait_nflog();
        wait_signal();
        start_watchdog();
        std::error_code dir_ec;
        std::filesystem::create_directories(std::filesystem::path(opt_.control_socket).parent_path(), dir_ec);
        if (auto e = control_.listen(); !e.empty()) return fatal("control_socket", e);
        control_.on("status", [this](const control::Fields& f, const control::Caller&) { return status(f); });
        control_.on("window-open", [this](const control::Fields& f, const control::Caller& c) { return windows_.open(f, c); });
        control_.on("window-close", [this](const control::Fields& f, const control::Caller& c) { return windows_.close(f, c); });
        control_.on("window-list", [this](const control::Fields& f, const control::Caller&) { return windows_.list(f); });
        control_.on("reload", [this](const control::Fields&, const control::Caller& c) {
            if (!c.root_or_member(policy().gateway.admin_group))
                return control::Reply{4, fmt::format("user {} may not reload (root or group '{}' only)", c.user,
                                                     policy().gateway.admin_group), {}};
            Event("control", "reload_requested").kv("uid", static_cast<std::uint64_t>(c.uid)).kv("user", c.user);
            return reload();
        });
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
                (void)reload();
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
                if (auto s = kernel_->apply(compiled_); !s) {
                    Event("daemon", "reapply_failed", Level::critical).kv("error", s.error());
                } else {
                    Event("daemon", "ruleset_reapplied", Level::warning).kv("hash", hash_);
                    windows_.kernel_replaced();  // open windows' elements went with the old tables
                }
            }
            wait_monitor();
        });
    }

    void wait_nflog() {
        nflog_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
            if (ec) return;
            kernel_->process_nflog([this](const DropRecord& r) {
                auto [rule, dir] = split_prefix(r.prefix);
                ++drops_[rule + ":" + dir];
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

    control::Reply reload() {
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
            return {1, "policy rejected; the running policy is kept", r.report()};
        }
        const auto& old = policy().gateway;
        const auto& next = r.policy->gateway;
        if (old.bridge != next.bridge || old.modality_port != next.modality_port ||
            old.network_port != next.network_port || old.proxy_port != next.proxy_port) {
            Event("daemon", "reload_rejected", Level::error)
                .kv("file", r.source).kv("error", "bridge, ports and proxy_port change only with a restart").kv("kept", hash_);
            return {1, "bridge, ports and proxy_port change only with a restart; the running policy is kept", {}};
        }
        auto rs = policy::compile(*r.policy);
        if (auto s = host::prepare(*r.policy); !s) {
            Event("daemon", "reload_failed", Level::error).kv("stage", "host_setup").kv("error", s.error()).kv("kept", hash_);
            return {3, "host set-up failed: " + s.error(), {}};
        }
        if (auto s = kernel_->apply(rs); !s) {
            Event("daemon", "reload_failed", Level::error).kv("stage", "apply").kv("error", s.error()).kv("kept", hash_);
            return {3, "the kernel refused the ruleset (nothing changed): " + s.error(), {}};
        }
        compiled_ = std::move(rs);
        auto new_hash = policy::policy_hash(r.text);
        auto state = std::make_shared<const proxy::PolicyState>(std::move(*r.policy));
        runtime_.set_state(state);
        // Sessions whose flow the new policy no longer allows end now.
        windows_.set_policy(state, compiled_);
        resolver_.set_policy(state->policy);
        auto gone = [&state, this](const proxy::FlowInfo& f) {
            if (state->index.match(f.client.addr, f.server.addr, f.proto, f.server.port)) return false;
            std::shared_ptr<const void> keep;
            return f.proto != policy::Proto::tcp || !windows_.match(f.client.addr, f.server.addr, f.server.port, keep);
        };
        auto closed = runtime_.close_if(gone, "policy reload") + udp_.close_if(gone, "policy reload");
        Event("daemon", "reload_applied").kv("hash", new_hash).kv("previous", hash_)
            .kv("closed_sessions", static_cast<std::uint64_t>(closed));
        hash_ = new_hash;
        return {0, {}, fmt::format("policy {} applied (hash {}), {} sessions closed\n", opt_.policy_path, hash_, closed)};
    }

    control::Reply status(const control::Fields& f) {
        const auto& p = policy();
        auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
        const auto& c = runtime_.counters;
        auto live = runtime_.live() + udp_.flows();
        auto counted = kernel_->drop_counters(compiled_);
        if (f.contains("json")) {
            using control::json_string;
            std::string mods, drops, kdrops;
            for (const auto& [k, v] : counted) kdrops += fmt::format("{}{}:{}", kdrops.empty() ? "" : ",", json_string(k), v);
            for (const auto& m : p.modalities) {
                std::size_t allows = 0;
                for (const auto& a : p.allows) allows += a.modality == m.name;
                mods += fmt::format("{}{{\"name\":{},\"ip\":{},\"mac\":{},\"allows\":{}}}", mods.empty() ? "" : ",",
                                    json_string(m.name), json_string(m.ip.addr.str()), json_string(m.mac.str()), allows);
            }
            for (const auto& [k, v] : drops_) drops += fmt::format("{}{}:{}", drops.empty() ? "" : ",", json_string(k), v);
            return {0, {}, fmt::format(
                "{{\"running\":true,\"uptime_s\":{},\"policy\":{{\"path\":{},\"hash\":{},\"mode\":{}}},"
                "\"modalities\":[{}],\"proxy\":{{\"accepted\":{},\"refused\":{},\"upstream_failed\":{},"
                "\"closed\":{},\"live\":{},\"bytes_up\":{},\"bytes_down\":{},\"udp_datagrams\":{}}},"
                "\"drops\":{{{}}},\"drops_logged\":{{{}}},\"windows\":{}}}\n",
                uptime, json_string(opt_.policy_path), json_string(hash_), json_string(policy::to_string(p.gateway.mode)),
                mods, c.accepted, c.refused, c.upstream_failed, c.closed, live, c.bytes_up, c.bytes_down,
                c.udp_datagrams, kdrops, drops, windows_.status_json())};
        }
        std::string out = fmt::format("modgated: running, up {}s\npolicy:   {} (hash {}), mode {}\nmodalities:\n", uptime,
                                      opt_.policy_path, hash_, policy::to_string(p.gateway.mode));
        for (const auto& m : p.modalities) {
            std::size_t allows = 0;
            for (const auto& a : p.allows) allows += a.modality == m.name;
            out += fmt::format("  {:<16} {:<15} {}  {} allows\n", m.name, m.ip.addr.str(), m.mac.str(), allows);
        }
        out += fmt::format("proxy:    {} accepted, {} refused, {} upstream failures, {} live, {} bytes up, {} bytes down\n",
                           c.accepted, c.refused, c.upstream_failed, live, c.bytes_up, c.bytes_down);
        out += "drops:    counted";
        if (counted.empty()) out += " (unavailable)";
        for (const auto& [k, v] : counted) out += fmt::format(" {}={}", k, v);
        out += "\n          logged (rate-limited)";
        if (drops_.empty()) out += " none";
        for (const auto& [k, v] : drops_) out += fmt::format(" {}={}", k, v);
        out += "\nwindows:\n";
        auto w = windows_.list({});
        std::istringstream lines(w.body);
        for (std::string line; std::getline(lines, line);) out += "  " + line + "\n";
        return {0, {}, out};
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
    control::Server control_;
    WindowManager windows_;
    proxy::DicomCounts dicom_counts_;
    VendorResolver resolver_;
    std::chrono::microseconds watchdog_interval_{0};
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::map<std::string, std::uint64_t> drops_;  // NFLOG records by "rule:dir"
    ruleset::Ruleset compiled_;  // what the kernel holds (re-applied when someone alters it)
    std::string hash_;
    std::string stop_reason_ = "io stopped";
    int exit_code_ = 0;

public:
    void set_hash(std::string h) { hash_ = std::move(h); }
};

}  // namespace

int run(const Options& opt, policy::Policy initial) {
    // Events always go to stderr (journald); a file sink (or --event-file) adds a copy.
    std::string event_file = opt.event_file;
    for (const auto& sk : initial.logging.sinks)
        if (sk.type == policy::SinkType::file && event_file.empty()) event_file = sk.target;
    events::init(event_file, initial.logging.level == "debug" || initial.logging.level == "trace" ? Level::debug
                             : initial.logging.level == "warning"                                ? Level::warning
                             : initial.logging.level == "error"                                  ? Level::error
                                                                                                  : Level::info);
    if (auto s = host::check_interfaces(initial.gateway); !s) {
        Event("daemon", "refused_to_start", Level::critical).kv("error", s.error());
        return 3;
    }
    std::error_code ec;
    std::filesystem::create_directories(opt.state_dir, ec);
    // One daemon per state directory: a second one would fight the first over the ruleset.
    int lock = ::open((opt.state_dir + "/modgated.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0) {
        Event("daemon", "refused_to_start", Level::critical)
            .kv("error", fmt::format("another modgated holds {}/modgated.lock", opt.state_dir));
        return 3;
    }
    auto kernel = open_kernel(policy::compile(initial), initial.gateway.drop_log.group);
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
