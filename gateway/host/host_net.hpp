// What host set-up reads and changes in the kernel, as plain data, and the one door it goes
// through (HostNet): rtnetlink and /proc/sys in the daemon, an in-memory fake in the tests.
#pragma once
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/net.hpp"

namespace modgate::host {

using Status = std::expected<void, std::string>;
template <class T>
using Result = std::expected<T, std::string>;

// An IPv4 route. Routes of other types (broadcast, blackhole, multipath...) read back as `other`
// with whatever fields apply; host set-up never creates or touches those.
struct Route {
    enum class Type : std::uint8_t { unicast, local, other };
    std::uint32_t table = 0;
    Type type = Type::unicast;
    policy::Cidr dst{policy::Ipv4{0}, 0};  // 0.0.0.0/0 is the default route
    std::optional<policy::Ipv4> gateway;
    std::string dev;                       // empty when the route names no device
    bool onlink = false;                   // RTNH_F_ONLINK: the gateway is on the link, no subnet route needed
    std::uint8_t protocol = 0;             // rtm_protocol: who owns the route
    bool operator==(const Route&) const = default;
    // The kernel keeps one route per (table, destination) at tos 0 and metric 0; a replace
    // request takes over that slot, whatever the old route's owner.
    bool same_slot(const Route& o) const { return table == o.table && dst == o.dst; }
    std::string str() const;  // "route 10.20.30.0/24 table 1000", for messages
};

// An IPv4 policy routing rule.
struct Rule {
    enum class Action : std::uint8_t { lookup, unreachable, other };
    std::uint32_t priority = 0;
    Action action = Action::lookup;
    std::uint32_t table = 0;  // lookup only
    std::optional<std::uint32_t> fwmark;
    std::optional<policy::Cidr> src, dst;
    std::uint8_t protocol = 0;  // FRA_PROTOCOL: who owns the rule
    bool operator==(const Rule&) const = default;
    std::string str() const;  // "rule 200 from 10.20.30.40 lookup 1000", for messages
};

struct Link {
    std::string name;
    std::string master;  // the bridge it is a port of; empty when none
    bool is_bridge = false;
    bool up = false;     // administratively (IFF_UP)
    bool operator==(const Link&) const = default;
};

// Settings to change on an existing link; unset fields are left as they are.
struct LinkChange {
    std::string name;
    std::optional<bool> up;
    std::optional<policy::Mac> mac;
    std::optional<bool> multicast;       // IFF_MULTICAST
    std::optional<bool> mcast_snooping;  // bridges only (IFLA_BR_MCAST_SNOOPING)
    bool operator==(const LinkChange&) const = default;
};

class HostNet {
public:
    virtual ~HostNet() = default;
    // nullopt when there is no such link.
    virtual Result<std::optional<Link>> link(const std::string& name) = 0;
    virtual Status set_link(const LinkChange& c) = 0;
    // Every IPv4 route of every table, ours and foreign.
    virtual Result<std::vector<Route>> routes() = 0;
    // Creates the route or replaces the one in its slot (NLM_F_CREATE|NLM_F_REPLACE).
    virtual Status replace_route(const Route& r) = 0;
    // Deletes the route matching every field, protocol included.
    virtual Status delete_route(const Route& r) = 0;
    // Every IPv4 rule, ours and foreign.
    virtual Result<std::vector<Rule>> rules() = 0;
    virtual Status add_rule(const Rule& r) = 0;
    // Deletes the first rule matching every field, protocol included.
    virtual Status delete_rule(const Rule& r) = 0;
    // Sysctls by path under /proc/sys ("net/ipv4/ip_forward"); read gives "" when unreadable.
    virtual std::string read_sysctl(const std::string& path) = 0;
    virtual Status write_sysctl(const std::string& path, const std::string& value) = 0;
};

// The daemon's HostNet: one rtnetlink socket (libmnl) and the files under /proc/sys.
Result<std::unique_ptr<HostNet>> open_netlink_host_net();

}  // namespace modgate::host
