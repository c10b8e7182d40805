// Session bookkeeping for caps, reload and island mode.
#include "gateway/proxy/runtime.hpp"

#include "gateway/events/events.hpp"

#include <vector>

namespace modgate::proxy {

void Runtime::prune() const {
    sessions_.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
}

void Runtime::add(const std::shared_ptr<Session>& s) {
    if (sessions_.size() > 256) prune();
    sessions_.push_back(s);
}

std::size_t Runtime::count_modality(policy::Ipv4 modality) const {
    prune();
    std::size_t n = 0;
    for (const auto& w : sessions_)
        if (auto s = w.lock(); s && s->flow().match.modality && s->flow().match.modality->ip.addr == modality) ++n;
    return n;
}

std::size_t Runtime::count_peer(const policy::Peer* peer) const {
    prune();
    std::size_t n = 0;
    for (const auto& w : sessions_)
        if (auto s = w.lock(); s && s->flow().match.peer && peer && s->flow().match.peer->name == peer->name) ++n;
    return n;
}

std::size_t Runtime::live() const {
    prune();
    return sessions_.size();
}

std::size_t Runtime::close_if(const std::function<bool(const FlowInfo&)>& pred, std::string_view reason) {
    std::vector<std::shared_ptr<Session>> doomed;
    for (const auto& w : sessions_)
        if (auto s = w.lock(); s && pred(s->flow())) doomed.push_back(s);
    for (auto& s : doomed) s->close(reason);
    prune();
    return doomed.size();
}

}  // namespace modgate::proxy

namespace modgate::proxy {

using events::Event;
using events::Key;
using events::Kind;

std::string_view to_string(FlowEnd e) {
    constexpr std::string_view n[] = {"closed",          "idle_timeout", "timeout", "client_error", "server_error",
                                      "upstream_failed", "refused",      "aborted", "cut",          "io_error"};
    return n[static_cast<std::size_t>(e)];
}

void Runtime::opened(const FlowInfo& f) {
    Event(Kind::flow_opened)
        .kv(Key::id, f.id).kv(Key::allow, f.match.allow->name).kv(Key::service, policy::to_string(f.match.allow->service))
        .kv(Key::dir, policy::to_string(f.match.direction)).kv(Key::src, f.client.str()).kv(Key::dst, f.server.str());
}

void Runtime::closed(const FlowInfo& f, const FlowStats& stats, FlowEnd end, std::string_view reason) {
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - f.started).count();
    Event(Kind::flow_closed)
        .kv(Key::id, f.id).kv(Key::allow, f.match.allow->name).kv(Key::service, policy::to_string(f.match.allow->service))
        .kv(Key::dir, policy::to_string(f.match.direction)).kv(Key::src, f.client.str()).kv(Key::dst, f.server.str())
        .kv(Key::bytes_up, stats.bytes_up).kv(Key::bytes_down, stats.bytes_down).kv(Key::duration, secs)
        .kv(Key::end, to_string(end)).kv(Key::reason, reason);
}

void Runtime::refused(const FlowInfo& f, std::string_view reason) {
    Event(Kind::flow_refused)
        .kv(Key::id, f.id).kv(Key::proto, policy::to_string(f.proto)).kv(Key::src, f.client.str())
        .kv(Key::dst, f.server.str()).kv(Key::reason, reason);
}

void Runtime::upstream_failed(const FlowInfo& f, std::string_view error) {
    Event(Kind::upstream_failed)
        .kv(Key::id, f.id).kv(Key::allow, f.match.allow->name).kv(Key::src, f.client.str())
        .kv(Key::dst, f.server.str()).kv(Key::error, error);
}

}  // namespace modgate::proxy
