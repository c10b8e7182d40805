// Which allow a proxied connection belongs to: the proxy asks with the addresses it sees (the
// client and the original destination); the most specific peer network wins. Pure.
#pragma once
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "policy/model.hpp"

namespace modgate::policy {

struct FlowMatch {
    const Allow* allow = nullptr;
    const Modality* modality = nullptr;
    const Peer* peer = nullptr;
    Direction direction = Direction::outbound;
};

class FlowIndex {
public:
    explicit FlowIndex(const Policy& p);  // `p` must outlive the index (pointers into it)

    // src/dst as seen by the proxy: for outbound flows src is the modality, for inbound flows
    // dst is. `dport` is the original destination port.
    std::optional<FlowMatch> match(Ipv4 src, Ipv4 dst, Proto proto, std::uint16_t dport) const;

    const Modality* modality_at(Ipv4 addr) const;

private:
    struct Entry {
        const Allow* allow;
        const Peer* peer;
    };
    std::unordered_map<std::uint32_t, const Modality*> modalities_;
    // Per modality address and direction: candidates, most specific peer first.
    std::unordered_map<std::uint32_t, std::vector<Entry>> out_, in_;
};

}  // namespace modgate::policy
