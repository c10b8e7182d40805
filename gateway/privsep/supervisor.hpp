// The parent's side of privilege separation: forks the proxy process, keeps it told (policy,
// open windows, cut orders), forwards its events to the parent's sinks, keeps its cumulative
// counters, and restarts it within a second when it dies. While it is down nothing opens: the
// listeners died with it, and the kernel's rules stay.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "gateway/privsep/confine.hpp"
#include "gateway/privsep/wire.hpp"
#include "gateway/proxy/asio.hpp"

namespace modgate::privsep {

class Channel;

class Supervisor {
public:
    using OnResolved = std::function<void(const ResolvedMsg&)>;
    // `on_resolved`: what to do with the vendor host names the proxy resolved.
    Supervisor(asio::io_context& io, Identity identity, OnResolved on_resolved);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Forks the first proxy and waits until it listens: "" or why it could not start.
    std::string start(PolicyMsg policy, std::vector<OpenWindow> windows);
    // Sends a new policy and waits for the proxy to take it: the sessions it closed, or nothing
    // when no proxy answered (a proxy started later gets the new policy anyway).
    std::optional<std::uint64_t> set_policy(PolicyMsg policy);
    void set_windows(std::vector<OpenWindow> windows);
    void cut(const std::string& modality, const std::string& vendor);
    void cut_all() { cut({}, {}); }
    void probe(const std::string& name);
    // Stops the proxy (SIGTERM, then SIGKILL after a second) and does not restart it.
    void stop();

    struct Counters {
        metrics::Snapshot snapshot;  // every proxy since start-up
        std::uint64_t live_sessions = 0;
        bool fresh = false;          // the running proxy answered just now
    };
    Counters counters();

    pid_t pid() const { return pid_; }
    std::uint64_t restarts() const { return restarts_; }
    uid_t uid() const { return identity_.uid; }

private:
    std::string spawn();
    std::string await_ready();
    void on_message(Message m);
    void on_channel_closed(const std::string& why);
    void watch_children();
    void reap();
    void exited(int status);
    void schedule_restart();

    asio::io_context& io_;
    Identity identity_;
    OnResolved on_resolved_;
    asio::signal_set sigchld_;
    asio::steady_timer restart_timer_;
    std::shared_ptr<Channel> channel_;
    pid_t pid_ = -1;
    bool ready_ = false, stopping_ = false;
    PolicyMsg policy_;
    std::vector<OpenWindow> windows_;
    metrics::Snapshot dead_, last_;  // proxies that died; the running one's latest
    std::uint64_t live_ = 0, restarts_ = 0, next_request_ = 0;
    std::chrono::steady_clock::time_point started_at_;
};

}  // namespace modgate::privsep
