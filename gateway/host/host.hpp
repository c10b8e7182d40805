// Host set-up for the data path (kernel recipe): the bridge and its ports, br_netfilter off,
// IPv6 off on the bridge, policy routing that delivers diverted packets to the proxy and sends
// the proxy's upstream legs through each modality's own router, never the management route.
#pragma once
#include <expected>
#include <string>

#include "policy/model.hpp"

namespace modgate::host {

using Status = std::expected<void, std::string>;

// Routing numbers modgate owns in the gateway's network namespace.
inline constexpr int rule_pref_divert = 100;    // fwmark -> table_local
inline constexpr int rule_pref_from = 200;      // from MODALITY -> its table
inline constexpr int rule_pref_to = 201;        // to MODALITY -> its table
inline constexpr int rule_pref_block = 202;     // from MODALITY unreachable (never the main table)
inline constexpr int table_local = 100;
inline constexpr int table_base = 1000;         // + modality index

// The bridge exists and is a bridge, both ports exist and are its ports, the management
// interface (if any) exists. The message says what is missing and how to fix it.
Status check_interfaces(const policy::Gateway& g);

// Whether a port is administratively up.
bool link_up(const std::string& ifname);

// Sysctls, bridge MAC, IPv6 off, policy routing for every modality (stale entries of removed
// modalities are removed). Idempotent: reloads call it again.
Status prepare(const policy::Policy& p);

// Both bridge ports up or down (the bridge itself is brought up by prepare()).
Status set_ports(const policy::Gateway& g, bool up);

// Reads a sysctl ("net/ipv4/ip_forward"); empty when unreadable.
std::string read_sysctl(const std::string& path);

}  // namespace modgate::host
