// Host set-up for the data path (kernel recipe): the bridge and its ports, br_netfilter off,
// IPv6 off on the bridge, policy routing that delivers diverted packets to the proxy and sends
// the proxy's upstream legs through each modality's own router, never the management route.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/host/host_net.hpp"
#include "policy/model.hpp"

namespace modgate::host {

// Routing numbers modgate uses in the gateway's network namespace.
inline constexpr std::uint32_t rule_pref_divert = 100;  // fwmark -> table_local
inline constexpr std::uint32_t rule_pref_from = 200;    // from MODALITY -> its table
inline constexpr std::uint32_t rule_pref_to = 201;      // to MODALITY -> its table
inline constexpr std::uint32_t rule_pref_block = 202;   // from MODALITY unreachable (never the main table)
inline constexpr std::uint32_t table_local = 100;
inline constexpr std::uint32_t table_base = 1000;       // + modality index

// The owner mark on every rule (FRA_PROTOCOL) and route (rtm_protocol) modgate creates: it
// finds, replaces and deletes exactly those, never another's rule at the same priority or
// route in the same table. 183 (0xb7) is unassigned in linux/rtnetlink.h (RTPROT_*), in
// iproute2's rt_protos and in FRR's private range (186-198); values >= RTPROT_STATIC are not
// interpreted by the kernel. `ip -d rule show` prints it as "proto 183".
inline constexpr std::uint8_t rt_protocol = 183;

// Everything modgate wants in the routing tables for a policy, as plain data in the order it
// is applied (tables before the rules that point at them).
struct HostState {
    std::vector<Route> routes;
    std::vector<Rule> rules;
    bool operator==(const HostState&) const = default;
};

HostState desired_host_state(const policy::Policy& p);

// Makes the kernel's rules and routes carrying rt_protocol equal to `want` (syncconf style):
// replaces missing or different routes, adds missing rules, then deletes our rules and routes
// that are not wanted. Foreign ones are never touched. Stops at the first error; a later call
// finishes the job from whatever state that left.
Status apply_host_state(const HostState& want, HostNet& net);

// The bridge exists and is a bridge, both ports exist and are its ports, the management
// interface (if any) exists. The message says what is missing and how to fix it.
Status check_interfaces(const policy::Gateway& g);
Status check_interfaces(const policy::Gateway& g, HostNet& net);

// Whether a port is administratively up.
bool link_up(const std::string& ifname);

// Sysctls, bridge MAC and multicast, the bridge up, policy routing for every modality (stale
// entries of removed modalities are removed). Idempotent: reloads call it again.
Status prepare(const policy::Policy& p);
Status prepare(const policy::Policy& p, HostNet& net);

// Both bridge ports up or down (the bridge itself is brought up by prepare()).
Status set_ports(const policy::Gateway& g, bool up);
Status set_ports(const policy::Gateway& g, bool up, HostNet& net);

// Reads a sysctl ("net/ipv4/ip_forward"); empty when unreadable.
std::string read_sysctl(const std::string& path);

}  // namespace modgate::host
