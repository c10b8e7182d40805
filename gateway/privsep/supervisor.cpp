// The proxy process's supervisor in the parent (see supervisor.hpp).
#include "gateway/privsep/supervisor.hpp"

#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "gateway/events/bus.hpp"
#include "gateway/events/events.hpp"
#include "gateway/privsep/channel.hpp"
#include "gateway/privsep/proxy_process.hpp"

namespace modgate::privsep {

using events::Event;
using events::Key;
using events::Kind;
using events::Level;

namespace {

inline constexpr std::size_t max_queued = 32 * 1024 * 1024;  // policies and windows for the proxy
inline constexpr auto ready_limit = std::chrono::seconds(5);
inline constexpr auto answer_limit = std::chrono::seconds(2);

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

Supervisor::Supervisor(asio::io_context& io, Identity identity, OnResolved on_resolved)
    : io_(io), identity_(std::move(identity)), on_resolved_(std::move(on_resolved)), sigchld_(io, SIGCHLD),
      restart_timer_(io) {
    watch_children();
}

Supervisor::~Supervisor() { stop(); }

std::string Supervisor::start(PolicyMsg policy, std::vector<OpenWindow> windows) {
    policy_ = std::move(policy);
    windows_ = std::move(windows);
    if (auto e = spawn(); !e.empty()) return e;
    return await_ready();
}

std::string Supervisor::spawn() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return fmt::format("socketpair: {}", std::strerror(errno));
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(sv[0]);
        ::close(sv[1]);
        return fmt::format("fork: {}", std::strerror(errno));
    }
    if (pid == 0) {
        ::close(sv[0]);
        run_proxy(ProxyStart{sv[1], parent, policy_, windows_, identity_});
    }
    ::close(sv[1]);
    pid_ = pid;
    ready_ = false;
    last_ = {};
    live_ = 0;
    started_at_ = std::chrono::steady_clock::now();
    channel_ = std::make_shared<Channel>(io_, sv[0], From::proxy, max_queued);
    channel_->start([this](Message m) { on_message(std::move(m)); },
                    [this](const std::string& why) { on_channel_closed(why); });
    return {};
}

// Start-up waits for the first proxy: a listener that cannot be opened is a fatal error then.
std::string Supervisor::await_ready() {
    auto m = channel_->wait_for([](const Message& x) { return std::holds_alternative<ReadyMsg>(x); }, ready_limit);
    if (!m) return "the proxy process did not start";
    auto& r = std::get<ReadyMsg>(*m);
    if (!r.error.empty()) return r.error;
    on_message(std::move(*m));
    return {};
}

void Supervisor::on_message(Message m) {
    if (auto* e = std::get_if<EventMsg>(&m)) return events::Bus::get().forward(std::move(e->record));
    if (auto* r = std::get_if<ResolvedMsg>(&m)) {
        if (on_resolved_) on_resolved_(*r);
        return;
    }
    if (auto* c = std::get_if<CountersMsg>(&m)) {
        last_ = std::move(c->snapshot);
        live_ = c->live_sessions;
        return;
    }
    if (auto* r = std::get_if<ReadyMsg>(&m)) {
        if (!r->error.empty()) {
            Event(Kind::proxy_failed, Level::critical).kv(Key::stage, "start").kv(Key::error, r->error);
            return;
        }
        ready_ = true;
        Event(Kind::proxy_started).kv(Key::pid, static_cast<std::int64_t>(pid_))
            .kv(Key::uid, static_cast<std::uint64_t>(identity_.uid)).kv(Key::landlock, static_cast<std::uint64_t>(r->landlock))
            .kv(Key::restarts, restarts_);
    }
    // A late PolicyAppliedMsg (its wait timed out) needs nothing more.
}

// A proxy that sends what the decoder refuses is treated as compromised: it is killed, and the
// restart starts a clean one.
void Supervisor::on_channel_closed(const std::string& why) {
    if (pid_ <= 0 || stopping_) return;
    if (why.starts_with("bad message")) {
        Event(Kind::proxy_failed, Level::critical).kv(Key::stage, "channel").kv(Key::error, why);
        ::kill(pid_, SIGKILL);
    }
}

void Supervisor::watch_children() {
    sigchld_.async_wait([this](const error_code& ec, int) {
        if (ec) return;
        reap();
        watch_children();
    });
}

void Supervisor::reap() {
    int status = 0;
    while (pid_ > 0) {
        auto r = ::waitpid(pid_, &status, WNOHANG);
        if (r == 0 || (r < 0 && errno != EINTR)) return;
        if (r == pid_) exited(status);
    }
}

void Supervisor::exited(int status) {
    Event e(Kind::proxy_exited, stopping_ ? Level::info : Level::error);
    e.kv(Key::pid, static_cast<std::int64_t>(pid_));
    if (WIFSIGNALED(status)) e.kv(Key::signal, signal_name(WTERMSIG(status)));
    else e.kv(Key::exit_code, WEXITSTATUS(status));
    pid_ = -1;
    ready_ = false;
    metrics::add(dead_, last_);
    last_ = {};
    live_ = 0;
    if (channel_) channel_->close("the proxy exited");
    channel_.reset();
    if (!stopping_) schedule_restart();
}

// At once after a proxy that ran a while; half a second after one that died young, so a proxy
// that cannot start does not spin. Either way within a second.
void Supervisor::schedule_restart() {
    auto ran = std::chrono::steady_clock::now() - started_at_;
    restart_timer_.expires_after(ran < std::chrono::seconds(10) ? std::chrono::milliseconds(500)
                                                                : std::chrono::milliseconds(50));
    restart_timer_.async_wait([this](const error_code& ec) {
        if (ec || stopping_) return;
        ++restarts_;
        if (auto e = spawn(); !e.empty()) {
            Event(Kind::proxy_failed, Level::critical).kv(Key::stage, "restart").kv(Key::error, e);
            schedule_restart();
        }
    });
}

std::optional<std::uint64_t> Supervisor::set_policy(PolicyMsg policy) {
    policy_ = std::move(policy);
    if (!channel_ || !channel_->send(policy_)) return std::nullopt;
    auto m = channel_->wait_for([](const Message& x) { return std::holds_alternative<PolicyAppliedMsg>(x); },
                                answer_limit);
    if (!m) return std::nullopt;
    return std::get<PolicyAppliedMsg>(*m).closed_sessions;
}

void Supervisor::set_windows(std::vector<OpenWindow> windows) {
    windows_ = std::move(windows);
    if (channel_) channel_->send(WindowsMsg{windows_});
}

void Supervisor::cut(const std::string& modality, const std::string& vendor) {
    if (channel_) channel_->send(CutMsg{modality, vendor});
}

void Supervisor::probe(const std::string& name) {
    if (channel_) channel_->send(ProbeMsg{name});
}

Supervisor::Counters Supervisor::counters() {
    Counters c;
    if (channel_ && ready_) {
        auto id = ++next_request_;
        channel_->send(CountersRequest{id});
        auto m = channel_->wait_for(
            [id](const Message& x) { return std::holds_alternative<CountersMsg>(x) && std::get<CountersMsg>(x).id == id; },
            answer_limit);
        if (m) {
            on_message(std::move(*m));
            c.fresh = true;
        }
    }
    c.snapshot = dead_;
    metrics::add(c.snapshot, last_);
    c.live_sessions = live_;
    return c;
}

void Supervisor::stop() {
    stopping_ = true;
    restart_timer_.cancel();
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exited(status);
            return;
        }
        ::usleep(10'000);
    }
    ::kill(pid_, SIGKILL);
    if (::waitpid(pid_, &status, 0) == pid_) exited(status);
}

}  // namespace modgate::privsep
