// What the proxies share: the current policy (swapped atomically on reload; live sessions keep
// the version they started with), the live sessions, limits and counters.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <optional>

#include "gateway/proxy/sockets.hpp"
#include "policy/flows.hpp"
#include "policy/model.hpp"

namespace modgate::proxy {

struct PolicyState {
    explicit PolicyState(policy::Policy p) : policy(std::move(p)), index(policy) {}
    PolicyState(const PolicyState&) = delete;
    policy::Policy policy;
    policy::FlowIndex index;
};

struct FlowInfo {
    std::uint64_t id = 0;
    policy::Proto proto = policy::Proto::tcp;
    Endpoint client;  // who opened the connection
    Endpoint server;  // its original destination
    std::shared_ptr<const PolicyState> state;  // keeps `match` valid across reloads
    policy::FlowMatch match;
    std::shared_ptr<const void> keepalive;     // keeps a window flow's synthetic allow valid
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

class Session {
public:
    virtual ~Session() = default;
    virtual void start() = 0;
    // Ends the session at once (reload removed its flow, island mode, shutdown).
    virtual void close(std::string_view reason) = 0;
    virtual const FlowInfo& flow() const = 0;
};

// How a flow ended, for flow_closed's `end` (its `reason` says more in words).
enum class FlowEnd : std::uint8_t {
    closed,           // both sides closed, or the association was released
    idle_timeout,
    timeout,          // a protocol timer (ARTIM, lifetime, write)
    client_error,
    server_error,
    upstream_failed,  // the upstream leg never came up
    refused,          // modgate refused the flow after accepting it (TLS name, DICOM reject)
    aborted,          // modgate aborted it (DICOM A-ABORT, a malformed PDU)
    cut,              // closed from outside: reload, window close, island, shutdown
    io_error,         // a read or write failed
};
std::string_view to_string(FlowEnd e);

struct FlowStats {
    std::uint64_t bytes_up = 0;    // client -> server
    std::uint64_t bytes_down = 0;  // server -> client
};

class Runtime {
public:
    explicit Runtime(std::shared_ptr<const PolicyState> state) : state_(std::move(state)) {}

    std::shared_ptr<const PolicyState> state() const { return state_; }
    void set_state(std::shared_ptr<const PolicyState> s) { state_ = std::move(s); }

    std::uint64_t next_id() { return ++last_id_; }

    // Flows the kernel diverted because a maintenance window is open (no allow names them):
    // the window manager's answer, when one is installed.
    std::function<std::optional<policy::FlowMatch>(policy::Ipv4 src, policy::Ipv4 dst, std::uint16_t port,
                                                   std::shared_ptr<const void>& keepalive)>
        window_match;

    // The one flow lifecycle: every accepted flow is opened once and closed once, whatever its
    // service; the events and counters of every flow come from here.
    void opened(const FlowInfo& f);
    void closed(const FlowInfo& f, const FlowStats& stats, FlowEnd end, std::string_view reason);
    // A diverted flow that no allow matches or that is over a cap (never opened).
    void refused(const FlowInfo& f, std::string_view reason);
    void upstream_failed(const FlowInfo& f, std::string_view error);

    void add(const std::shared_ptr<Session>& s);
    // Live sessions of a modality (by address) or with a peer address, for connection caps.
    std::size_t count_modality(policy::Ipv4 modality) const;
    std::size_t count_peer(const policy::Peer* peer) const;
    std::size_t live() const;
    // Closes every live session the predicate selects; returns how many.
    std::size_t close_if(const std::function<bool(const FlowInfo&)>& pred, std::string_view reason);

private:
    void prune() const;
    std::shared_ptr<const PolicyState> state_;
    mutable std::list<std::weak_ptr<Session>> sessions_;
    std::uint64_t last_id_ = 0;
};

// Default caps when the policy gives none.
inline constexpr std::size_t default_max_connections = 64;

}  // namespace modgate::proxy
