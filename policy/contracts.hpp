// What the compiler writes and the daemon reads back: the names of our tables, sets and chains,
// and the NFLOG prefix of every drop rule. Writer and reader live side by side so they cannot drift.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/model.hpp"

namespace modgate::policy {

// Every name the compiler emits. The daemon finds sets by these names at run time, so a name
// changed here changes both sides; a literal anywhere else is a bug.
namespace names {
inline constexpr const char* table = "modgate";  // one per family: bridge, inet, arp
inline constexpr std::uint32_t proxy_mark = 0x1;  // packets diverted to the proxy

// Sets. Flow keys are modality . peer . port; the window sets are dynamic with timeouts.
inline constexpr const char* stations = "stations";      // bridge: modality MAC . address
inline constexpr const char* modalities = "modalities";  // bridge and inet: modality addresses
inline constexpr const char* arp_pairs = "arp_pairs";    // bridge: modality . ARP partner
inline constexpr const char* out_tcp = "out_tcp";
inline constexpr const char* out_udp = "out_udp";
inline constexpr const char* in_tcp = "in_tcp";
inline constexpr const char* in_udp = "in_udp";
inline constexpr const char* window_set = "window_tcp";        // modality . vendor address . port
inline constexpr const char* window_in_set = "window_in_tcp";  // inbound vendor sessions

// Chains (base chains are named after their hook).
inline constexpr const char* prerouting = "prerouting";
inline constexpr const char* forward = "forward";
inline constexpr const char* input = "input";
inline constexpr const char* output = "output";
inline constexpr const char* from_modality = "from_modality";  // bridge
inline constexpr const char* from_network = "from_network";    // bridge
inline constexpr const char* from_bridge = "from_bridge";      // inet
inline constexpr const char* to_bridge = "to_bridge";          // inet
}  // namespace names

// Why a packet was dropped; each reason and direction has its own drop chain and NFLOG prefix.
enum class DropReason {
    spoof,   // a modality's address or MAC where it cannot be
    ipv6,    // modalities get no IPv6
    bridge,  // not ARP between listed partners, not diverted
    flow,    // no allow or open window covers it
    local,   // to or from the gateway itself, not a proxy leg
    island,  // island mode drops everything
};
inline constexpr DropReason all_drop_reasons[] = {DropReason::spoof, DropReason::ipv6,  DropReason::bridge,
                                                  DropReason::flow,  DropReason::local, DropReason::island};

const char* to_string(DropReason);  // "spoof"
std::optional<DropReason> drop_reason_from_string(std::string_view);

struct DropPrefix {
    DropReason reason;
    Direction dir;
    bool operator==(const DropPrefix&) const = default;
};

// "modgate:REASON:DIR", e.g. "modgate:flow:in".
std::string drop_prefix(DropReason reason, Direction dir);
// The inverse of drop_prefix; nothing for a prefix that is not exactly one of ours.
std::optional<DropPrefix> parse_drop_prefix(std::string_view prefix);

// "drop_REASON_DIR", e.g. "drop_flow_in".
std::string drop_chain_name(DropReason reason, Direction dir);

}  // namespace modgate::policy
