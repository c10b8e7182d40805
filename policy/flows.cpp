// FlowIndex: per-modality candidate lists built once per policy; a match scans the few allows
// of one modality.
#include "policy/flows.hpp"

#include <algorithm>

namespace modgate::policy {

FlowIndex::FlowIndex(const Policy& p) {
    for (const auto& m : p.modalities) modalities_[m.ip.addr.value] = &m;
    for (const auto& a : p.allows) {
        const Modality* m = p.find_modality(a.modality);
        const Peer* pe = p.find_peer(a.peer);
        if (!m || !pe) continue;
        auto& list = a.direction == Direction::outbound ? out_[m->ip.addr.value] : in_[m->ip.addr.value];
        list.push_back({&a, pe});
    }
    for (auto* table : {&out_, &in_})
        for (auto& [addr, list] : *table)
            std::stable_sort(list.begin(), list.end(),
                             [](const Entry& x, const Entry& y) { return x.peer->address.len > y.peer->address.len; });
}

const Modality* FlowIndex::modality_at(Ipv4 addr) const {
    auto it = modalities_.find(addr.value);
    return it == modalities_.end() ? nullptr : it->second;
}

std::optional<FlowMatch> FlowIndex::match(Ipv4 src, Ipv4 dst, Proto proto, std::uint16_t dport) const {
    auto scan = [&](const std::unordered_map<std::uint32_t, std::vector<Entry>>& table, Ipv4 modality, Ipv4 other,
                    Direction dir) -> std::optional<FlowMatch> {
        auto it = table.find(modality.value);
        if (it == table.end()) return std::nullopt;
        for (const auto& e : it->second) {
            if (!e.peer->address.contains(other)) continue;
            for (const auto& ps : e.allow->ports)
                if (ps.proto == proto && ps.port == dport)
                    return FlowMatch{e.allow, modality_at(modality), e.peer, dir};
        }
        return std::nullopt;
    };
    if (auto m = scan(out_, src, dst, Direction::outbound)) return m;
    return scan(in_, dst, src, Direction::inbound);
}

}  // namespace modgate::policy
