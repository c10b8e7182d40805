// Host set-up: sysctls, the bridge's link settings and policy routing, all through a HostNet
// (rtnetlink in the daemon), each step checked and reported with its error.
#include "gateway/host/host.hpp"

#include <fstream>

#include <fmt/format.h>

namespace modgate::host {
namespace {

Status prepare_sysctls(const policy::Gateway& g, HostNet& net) {
    // br_netfilter is built in: with these on, inet tproxy answers diverted SYNs with RST.
    for (const char* k : {"net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
                          "net/bridge/bridge-nf-call-arptables"})
        if (auto s = net.write_sysctl(k, "0"); !s) return s;
    if (auto s = net.write_sysctl("net/ipv4/ip_forward", "0"); !s) return s;
    for (const auto& i : {g.bridge, g.modality_port, g.network_port})
        if (auto s = net.write_sysctl("net/ipv6/conf/" + i + "/disable_ipv6", "1"); !s) return s;
    // Replies from peers arrive on the bridge with sources the main table routes elsewhere.
    if (auto s = net.write_sysctl("net/ipv4/conf/" + g.bridge + "/rp_filter", "0"); !s) return s;
    if (auto was = net.read_sysctl("net/ipv4/conf/all/rp_filter"); was != "0") {
        if (auto s = net.write_sysctl("net/ipv4/conf/all/rp_filter", "0"); !s) return s;
        if (g.management) (void)net.write_sysctl("net/ipv4/conf/" + g.management->interface + "/rp_filter", was);
    }
    // The gateway owns no address on the bridge and must never answer ARP there.
    return net.write_sysctl("net/ipv4/conf/" + g.bridge + "/arp_ignore", "8");
}

template <class F>
auto with_netlink(F f) -> decltype(f(std::declval<HostNet&>())) {
    auto net = open_netlink_host_net();
    if (!net) return std::unexpected(net.error());
    return f(**net);
}

}  // namespace

std::string read_sysctl(const std::string& path) {
    std::ifstream f("/proc/sys/" + path);
    std::string v;
    std::getline(f, v);
    return v;
}

bool link_up(const std::string& ifname) {
    auto net = open_netlink_host_net();
    if (!net) return false;
    auto l = (*net)->link(ifname);
    return l && *l && (*l)->up;
}

Status check_interfaces(const policy::Gateway& g, HostNet& net) {
    auto bridge = net.link(g.bridge);
    if (!bridge) return std::unexpected(bridge.error());
    if (!*bridge)
        return std::unexpected(fmt::format("bridge '{}' does not exist; create it with its ports (e.g. `ip link add {} type bridge`)",
                                           g.bridge, g.bridge));
    if (!(*bridge)->is_bridge) return std::unexpected(fmt::format("'{}' exists but is not a bridge", g.bridge));
    for (const auto& port : {g.modality_port, g.network_port}) {
        auto l = net.link(port);
        if (!l) return std::unexpected(l.error());
        if (!*l) return std::unexpected(fmt::format("bridge port '{}' does not exist", port));
        if ((*l)->master != g.bridge)
            return std::unexpected(fmt::format("'{}' is not a port of bridge '{}' (`ip link set {} master {}`)", port,
                                               g.bridge, port, g.bridge));
    }
    if (g.management) {
        auto l = net.link(g.management->interface);
        if (!l) return std::unexpected(l.error());
        if (!*l) return std::unexpected(fmt::format("management interface '{}' does not exist", g.management->interface));
    }
    return {};
}

Status check_interfaces(const policy::Gateway& g) {
    return with_netlink([&](HostNet& net) { return check_interfaces(g, net); });
}

Status set_ports(const policy::Gateway& g, bool up, HostNet& net) {
    // The bridge itself stays up (routes point at it); without its ports it carries nothing.
    for (const auto& i : {g.modality_port, g.network_port}) {
        LinkChange c;
        c.name = i;
        c.up = up;
        if (auto s = net.set_link(c); !s) return s;
    }
    return {};
}

Status set_ports(const policy::Gateway& g, bool up) {
    return with_netlink([&](HostNet& net) { return set_ports(g, up, net); });
}

Status prepare(const policy::Policy& p, HostNet& net) {
    const auto& g = p.gateway;
    if (auto s = prepare_sysctls(g, net); !s) return s;
    // The gateway joins no multicast groups on the clinical segment (no IGMP reports from it),
    // and the bridge forwards no multicast, so it needs no snooping or querier. Routes need the
    // bridge up; with its ports down (first start) it carries nothing yet.
    LinkChange bridge;
    bridge.name = g.bridge;
    bridge.up = true;
    bridge.mac = g.bridge_mac;
    bridge.multicast = false;
    bridge.mcast_snooping = false;
    if (auto s = net.set_link(bridge); !s) return s;
    return apply_host_state(desired_host_state(p), net);
}

Status prepare(const policy::Policy& p) {
    return with_netlink([&](HostNet& net) { return prepare(p, net); });
}

}  // namespace modgate::host
