// Session bookkeeping for caps, reload and island mode.
#include "gateway/proxy/runtime.hpp"

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
