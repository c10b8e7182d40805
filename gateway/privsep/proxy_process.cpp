// The proxy process (see proxy_process.hpp): the sessions, their handlers, and the channel to
// the parent. Events are counted here (so a lost message loses no count: the parent gets the
// cumulative counters) and forwarded to the parent's sinks.
#include "gateway/privsep/proxy_process.hpp"

#include <csignal>
#include <exception>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gateway/events/bus.hpp"
#include "gateway/events/events.hpp"
#include "gateway/privsep/channel.hpp"
#include "gateway/proxy/dicom_session.hpp"
#include "gateway/proxy/dns_resolver.hpp"
#include "gateway/proxy/lag_probe.hpp"
#include "gateway/proxy/tcp_proxy.hpp"
#include "gateway/proxy/tls_session.hpp"
#include "gateway/proxy/udp_proxy.hpp"
#include "gateway/proxy/window_flows.hpp"
#include "policy/load.hpp"

namespace modgate::privsep {

using events::Event;
using events::Key;
using events::Kind;
using events::Level;

namespace {

inline constexpr int channel_fd = 3;
inline constexpr std::size_t max_queued = 8 * 1024 * 1024;  // events waiting for the parent

class Proxy {
public:
    Proxy(std::shared_ptr<const proxy::PolicyState> state, std::string hash, std::vector<OpenWindow> windows);
    std::string listen(std::uint16_t port);
    void serve(int landlock_abi);
    void run() { io_.run(); }

private:
    void on_message(Message m);
    void apply(const PolicyMsg& m);
    void cut(const CutMsg& m);
    void send_counters(std::uint64_t id);
    void tick_counters();
    void forward(const events::Record& r);
    void report_drops();
    void probe(const std::string& name);

    asio::io_context io_;
    metrics::Registry registry_;
    proxy::Runtime runtime_;
    proxy::TcpProxy tcp_;
    proxy::UdpProxy udp_;
    proxy::DicomCounts dicom_counts_;
    proxy::LagProbe lag_;
    proxy::DnsResolver dns_;
    std::shared_ptr<Channel> channel_;
    std::vector<OpenWindow> windows_;
    std::shared_ptr<const proxy::WindowFlows> flows_;
    asio::steady_timer counters_timer_, drops_timer_;
    std::string hash_;
    std::uint64_t dropped_ = 0;
    bool drops_pending_ = false;
};

Proxy::Proxy(std::shared_ptr<const proxy::PolicyState> state, std::string hash, std::vector<OpenWindow> windows)
    : runtime_(state), tcp_(io_, runtime_), udp_(io_, runtime_), lag_(io_, registry_),
      dns_(io_, [this](proxy::DnsResult r) { if (channel_) channel_->send(std::move(r)); }), windows_(std::move(windows)),
      flows_(proxy::build_window_flows(state, windows_)), counters_timer_(io_), drops_timer_(io_),
      hash_(std::move(hash)) {
    tcp_.set_handler(policy::Service::dicom, [this](asio::io_context& io, tcp::socket s, proxy::FlowInfo f,
                                                    proxy::Runtime& rt) -> std::shared_ptr<proxy::Session> {
        return std::make_shared<proxy::DicomSession>(io, std::move(s), std::move(f), rt, dicom_counts_);
    });
    tcp_.set_handler(policy::Service::tls, [](asio::io_context& io, tcp::socket s, proxy::FlowInfo f,
                                              proxy::Runtime& rt) -> std::shared_ptr<proxy::Session> {
        return std::make_shared<proxy::TlsSession>(io, std::move(s), std::move(f), rt);
    });
    runtime_.window_match = [this](policy::Ipv4 src, policy::Ipv4 dst, std::uint16_t port,
                                   std::shared_ptr<const void>& keep) {
        return proxy::match_window(flows_, src, dst, port, std::chrono::system_clock::now(), keep);
    };
    auto& bus = events::Bus::get();
    bus.set_ring_capacity(0);
    bus.observe([this](const events::Record& r) { registry_.observe(r); });
    bus.observe([this](const events::Record& r) { forward(r); });
}

std::string Proxy::listen(std::uint16_t port) {
    if (auto e = tcp_.listen(port); !e.empty()) return e;
    return udp_.listen(port);
}

void Proxy::serve(int landlock_abi) {
    channel_ = std::make_shared<Channel>(io_, channel_fd, From::parent, max_queued);
    channel_->start([this](Message m) { on_message(std::move(m)); },
                    [](const std::string&) { ::_exit(0); });  // the parent is gone or closed on us
    channel_->send(ReadyMsg{static_cast<std::uint32_t>(::getpid()), {}, static_cast<std::uint32_t>(landlock_abi)});
    lag_.start();
    tick_counters();
    dns_.set_policy(runtime_.state()->policy);
}

void Proxy::on_message(Message m) {
    if (auto* p = std::get_if<PolicyMsg>(&m)) return apply(*p);
    if (auto* w = std::get_if<WindowsMsg>(&m)) {
        windows_ = std::move(w->open);
        flows_ = proxy::build_window_flows(runtime_.state(), windows_);
        return;
    }
    if (auto* c = std::get_if<CutMsg>(&m)) return cut(*c);
    if (auto* r = std::get_if<CountersRequest>(&m)) return send_counters(r->id);
    if (auto* p = std::get_if<ProbeMsg>(&m)) return probe(p->name);
}

// The parent checked this text before sending it: a proxy that cannot parse it is broken and
// exits (the parent restarts it with the same text and reports it).
void Proxy::apply(const PolicyMsg& m) {
    auto r = policy::load_checked(m.text, m.source);
    if (!r.policy) {
        Event(Kind::proxy_failed, Level::critical).kv(Key::stage, "policy").kv(Key::error, r.report());
        channel_->wait_for([](const Message&) { return false; }, std::chrono::milliseconds(200));
        ::_exit(1);
    }
    auto state = std::make_shared<const proxy::PolicyState>(std::move(*r.policy));
    runtime_.set_state(state);
    flows_ = proxy::build_window_flows(state, windows_);
    dns_.set_policy(state->policy);
    // Sessions whose flow the new policy no longer allows end now.
    auto now = std::chrono::system_clock::now();
    auto gone = [&](const proxy::FlowInfo& f) {
        if (state->index.match(f.client.addr, f.server.addr, f.proto, f.server.port)) return false;
        std::shared_ptr<const void> keep;
        return f.proto != policy::Proto::tcp ||
               !proxy::match_window(flows_, f.client.addr, f.server.addr, f.server.port, now, keep);
    };
    auto closed = runtime_.close_if(gone, "policy reload");
    hash_ = m.hash;
    channel_->send(PolicyAppliedMsg{m.hash, closed});
}

// A window's sessions, or (no modality) every session: island mode.
void Proxy::cut(const CutMsg& m) {
    if (m.modality.empty()) {
        auto n = runtime_.close_if([](const proxy::FlowInfo&) { return true; }, "island mode");
        Event(Kind::sessions_cut).kv(Key::sessions, static_cast<std::uint64_t>(n)).kv(Key::reason, "island mode");
        return;
    }
    auto out = proxy::window_allow_out(m.modality, m.vendor), in = proxy::window_allow_in(m.modality, m.vendor);
    auto n = runtime_.close_if(
        [&](const proxy::FlowInfo& f) { return f.match.allow && (f.match.allow->name == out || f.match.allow->name == in); },
        "maintenance window closed");
    if (n)
        Event(Kind::sessions_cut).kv(Key::modality, m.modality).kv(Key::vendor, m.vendor)
            .kv(Key::sessions, static_cast<std::uint64_t>(n)).kv(Key::reason, "maintenance window closed");
}

void Proxy::send_counters(std::uint64_t id) {
    channel_->send(CountersMsg{id, runtime_.live(), registry_.snapshot()});
}

// Unasked, every second: what the parent knows if this process dies between two requests.
void Proxy::tick_counters() {
    send_counters(0);
    counters_timer_.expires_after(std::chrono::seconds(1));
    counters_timer_.async_wait([this](const error_code& ec) {
        if (!ec) tick_counters();
    });
}

// Called by the bus for every event: never blocks. A record that does not fit the queue is
// dropped and counted, and one summary follows once the queue has room again.
void Proxy::forward(const events::Record& r) {
    if (channel_ && channel_->send(EventMsg{r})) return;
    ++dropped_;
    if (drops_pending_) return;
    drops_pending_ = true;
    asio::post(io_, [this] { report_drops(); });
}

void Proxy::report_drops() {
    if (channel_ && channel_->queued() < max_queued / 2) {
        drops_pending_ = false;
        auto n = std::exchange(dropped_, 0);
        Event(Kind::events_dropped, Level::warning).kv(Key::sink, "proxy").kv(Key::dropped, n);
        return;
    }
    drops_timer_.expires_after(std::chrono::milliseconds(100));
    drops_timer_.async_wait([this](const error_code& ec) {
        if (!ec) report_drops();
    });
}

// Test builds only (modgated-probes): attempts what the confinement forbids. Each attempt
// should end the process (seccomp); an attempt that returns is reported as a critical event.
void Proxy::probe(const std::string& name) {
    if (auto error = attempt_probe(name))
        Event(Kind::proxy_probe, Level::critical).kv(Key::name, name).kv(Key::error, *error);
}

// Signal dispositions and descriptors as a fresh process would have them: the parent's asio
// signal handlers write to descriptors this process no longer has.
void reset_process(int fd) {
    for (int sig : {SIGHUP, SIGINT}) std::signal(sig, SIG_IGN);  // the parent decides
    for (int sig : {SIGTERM, SIGCHLD}) std::signal(sig, SIG_DFL);
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (fd != channel_fd) {
        ::dup2(fd, channel_fd);
        ::close(fd);
    }
    ::syscall(SYS_close_range, channel_fd + 1, ~0U, 0);
}

[[noreturn]] void refuse(const std::string& error) {
    auto bytes = encode(ReadyMsg{static_cast<std::uint32_t>(::getpid()), error, 0});
    (void)!::write(channel_fd, bytes.data(), bytes.size());
    ::_exit(1);
}

}  // namespace

void run_proxy(ProxyStart s) {
    reset_process(s.channel_fd);
    events::Bus::replace_after_fork();
    try {
        auto r = policy::load_checked(s.policy.text, s.policy.source);
        if (!r.policy) refuse("the policy does not load: " + r.report());
        auto port = r.policy->gateway.proxy_port;
        Proxy proxy(std::make_shared<const proxy::PolicyState>(std::move(*r.policy)), s.policy.hash,
                    std::move(s.windows));
        if (auto e = proxy.listen(port); !e.empty()) refuse(e);
        int landlock = 0;
        if (auto e = confine(s.identity, s.parent, landlock); !e.empty()) refuse(e);
        proxy.serve(landlock);
        proxy.run();
    } catch (const std::exception& e) {
        refuse(std::string("exception: ") + e.what());
    }
    ::_exit(0);
}

}  // namespace modgate::privsep
