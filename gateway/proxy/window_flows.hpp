// Flows the kernel diverts because a maintenance window is open: no allow of the policy names
// them, so each open window gets synthetic allows (modality -> vendor ports, vendor -> modality
// inbound ports) and the vendor as a peer, and the proxy treats a window flow like any other.
// Built from the policy and the open windows the parent sends; sessions keep the version they
// started with.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/privsep/wire.hpp"
#include "gateway/proxy/runtime.hpp"
#include "policy/flows.hpp"

namespace modgate::proxy {

struct WindowFlows {
    struct Entry {
        std::string modality, vendor;
        const policy::Modality* modality_ptr = nullptr;
        policy::Allow out, in;
        policy::Peer peer;  // the vendor, as a peer (address unused)
        std::vector<policy::Cidr> addresses;
        std::chrono::system_clock::time_point ends_at;
    };
    std::shared_ptr<const PolicyState> state;  // keeps modality_ptr valid
    std::vector<Entry> entries;
};

// The synthetic allow names of a window: "MODALITY->VENDOR:window" and "VENDOR->MODALITY:window".
std::string window_allow_out(const std::string& modality, const std::string& vendor);
std::string window_allow_in(const std::string& modality, const std::string& vendor);

// Entries for the open windows the policy still has (others are ignored).
std::shared_ptr<const WindowFlows> build_window_flows(std::shared_ptr<const PolicyState> state,
                                                      const std::vector<privsep::OpenWindow>& open);

// The synthetic match of a diverted flow, if a window covers it now; `keepalive` then holds
// `flows` for as long as the session lives.
std::optional<policy::FlowMatch> match_window(const std::shared_ptr<const WindowFlows>& flows, policy::Ipv4 src,
                                              policy::Ipv4 dst, std::uint16_t port,
                                              std::chrono::system_clock::time_point now,
                                              std::shared_ptr<const void>& keepalive);

}  // namespace modgate::proxy
