// Names of ruleset model enums in nft syntax, and look-ups.
#include "policy/ruleset.hpp"

namespace modgate::ruleset {

const char* to_string(Family f) {
    switch (f) {
        case Family::inet: return "inet";
        case Family::bridge: return "bridge";
        case Family::arp: return "arp";
    }
    return "?";
}

const char* to_string(Field f) {
    switch (f) {
        case Field::meta_iifname: return "iifname";
        case Field::meta_oifname: return "oifname";
        case Field::meta_nfproto: return "meta nfproto";
        case Field::meta_l4proto: return "meta l4proto";
        case Field::meta_mark: return "meta mark";
        case Field::meta_pkttype: return "meta pkttype";
        case Field::ether_daddr: return "ether daddr";
        case Field::ether_saddr: return "ether saddr";
        case Field::ether_type: return "ether type";
        case Field::arp_htype: return "arp htype";
        case Field::arp_ptype: return "arp ptype";
        case Field::arp_hlen: return "arp hlen";
        case Field::arp_plen: return "arp plen";
        case Field::arp_operation: return "arp operation";
        case Field::arp_saddr_ether: return "arp saddr ether";
        case Field::arp_saddr_ip: return "arp saddr ip";
        case Field::arp_daddr_ether: return "arp daddr ether";
        case Field::arp_daddr_ip: return "arp daddr ip";
        case Field::ip_saddr: return "ip saddr";
        case Field::ip_daddr: return "ip daddr";
        case Field::tcp_sport: return "tcp sport";
        case Field::tcp_dport: return "tcp dport";
        case Field::udp_sport: return "udp sport";
        case Field::udp_dport: return "udp dport";
        case Field::ct_state: return "ct state";
        case Field::socket_transparent: return "socket transparent";
        case Field::socket_wildcard: return "socket wildcard";
    }
    return "?";
}

const char* to_string(KeyType k) {
    switch (k) {
        case KeyType::ipv4_addr: return "ipv4_addr";
        case KeyType::ether_addr: return "ether_addr";
        case KeyType::inet_service: return "inet_service";
        case KeyType::inet_proto: return "inet_proto";
        case KeyType::mark: return "mark";
        case KeyType::ifname: return "ifname";
    }
    return "?";
}

const char* to_string(Hook h) {
    switch (h) {
        case Hook::prerouting: return "prerouting";
        case Hook::input: return "input";
        case Hook::forward: return "forward";
        case Hook::output: return "output";
        case Hook::postrouting: return "postrouting";
    }
    return "?";
}

const Set* Table::find_set(std::string_view n) const {
    for (const auto& s : sets)
        if (s.name == n) return &s;
    return nullptr;
}

const Chain* Table::find_chain(std::string_view n) const {
    for (const auto& c : chains)
        if (c.name == n) return &c;
    return nullptr;
}

const Table* Ruleset::find(Family f, std::string_view n) const {
    for (const auto& t : tables)
        if (t.family == f && t.name == n) return &t;
    return nullptr;
}

}  // namespace modgate::ruleset
