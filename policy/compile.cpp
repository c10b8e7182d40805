// The policy compiler: a pure function from the validated policy to the ruleset model, following
// the data path of DESIGN.md and the verified kernel recipe. Permitted flows live in
// concatenated sets, so the number of rules does not depend on the number of modalities.
#include "policy/compile.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace modgate::policy {

using namespace ruleset;

namespace {

// ---- small builders for statements --------------------------------------------------------

Match eq(Field f, Value v) { return Match{f, Op::eq, std::move(v), {}}; }
Match ne(Field f, Value v) { return Match{f, Op::ne, std::move(v), {}}; }
Lookup member(std::vector<Field> key, std::string set) { return Lookup{std::move(key), std::move(set), false}; }
Lookup not_member(std::vector<Field> key, std::string set) { return Lookup{std::move(key), std::move(set), true}; }
Verdict accept() { return {Verdict::Kind::accept, {}}; }
Verdict drop() { return {Verdict::Kind::drop, {}}; }
Verdict jump(std::string c) { return {Verdict::Kind::jump, std::move(c)}; }
Verdict go_to(std::string c) { return {Verdict::Kind::go_to, std::move(c)}; }
Value num(std::uint64_t v) { return Value{v}; }
Value ifname(const std::string& s) { return Value{s}; }

Rule rule(std::vector<Stmt> stmts, std::string what) {
    Rule r;
    r.stmts = std::move(stmts);
    r.origin.what = std::move(what);
    return r;
}

BaseChain base(Hook h, std::int32_t prio, bool policy_drop = false) { return BaseChain{h, prio, policy_drop}; }

constexpr std::int32_t bridge_filter = -200, inet_mangle = -150, filter_prio = 0;

// A drop chain: count everything, log at a bounded rate under a prefix naming the rule, drop.
Chain drop_chain(const Gateway& g, std::string_view reason, Direction dir) {
    Chain c;
    c.name = fmt::format("drop_{}_{}", reason, to_string(dir));
    c.rules.push_back(rule({Counter{}, Limit{g.drop_log.rate, g.drop_log.burst},
                            Log{drop_prefix(reason, dir), g.drop_log.group}},
                           fmt::format("drop {} {}", reason, to_string(dir))));
    c.rules.push_back(rule({drop()}, fmt::format("drop {} {}", reason, to_string(dir))));
    return c;
}

std::string drop_name(std::string_view reason, Direction dir) {
    return fmt::format("drop_{}_{}", reason, to_string(dir));
}

// ---- set contents ---------------------------------------------------------------------------

Element element(std::vector<Value> key, const Origin& origin) {
    Element e;
    e.key = std::move(key);
    e.origin = origin;
    return e;
}

const Cidr* cidr_of(const Value& v) { return std::get_if<Cidr>(&v); }

// True when every key component of `inner` lies within the matching component of `outer`.
bool covered_by(const Element& inner, const Element& outer) {
    for (std::size_t i = 0; i < inner.key.size(); ++i) {
        const auto& a = inner.key[i];
        const auto& b = outer.key[i];
        if (a == b) continue;
        const Cidr* cb = cidr_of(b);
        if (!cb) return false;
        if (const Cidr* ca = cidr_of(a)) {
            if (!cb->contains(*ca)) return false;
        } else if (const Ipv4* ia = std::get_if<Ipv4>(&a)) {
            if (!cb->contains(*ia)) return false;
        } else {
            return false;
        }
    }
    return true;
}

// Sorts, removes duplicates and, in interval sets, elements inside others (the kernel refuses
// overlapping intervals; the validator has already warned about shadowed allows).
void normalise(Set& s) {
    // Addresses order numerically whether they are hosts or networks (10.0.0.1 < 10.0.0.128/25).
    auto rank = [](const Value& v) -> std::pair<std::uint64_t, std::uint64_t> {
        if (const auto* a = std::get_if<Ipv4>(&v)) return {a->value, 32};
        if (const auto* c = std::get_if<Cidr>(&v)) return {c->addr.value, c->len};
        if (const auto* n = std::get_if<std::uint64_t>(&v)) return {*n, 0};
        if (const auto* m = std::get_if<Mac>(&v)) {
            std::uint64_t x = 0;
            for (auto b : m->bytes) x = x << 8 | b;
            return {x, 0};
        }
        return {0, 0};
    };
    std::stable_sort(s.elements.begin(), s.elements.end(), [&](const Element& a, const Element& b) {
        for (std::size_t i = 0; i < a.key.size() && i < b.key.size(); ++i) {
            auto ra = rank(a.key[i]), rb = rank(b.key[i]);
            if (ra != rb) return ra < rb;
        }
        return a.key.size() < b.key.size();
    });
    std::vector<Element> out;
    for (auto& e : s.elements) {
        if (!out.empty() && out.back().key == e.key) continue;
        out.push_back(std::move(e));
    }
    if (s.interval) {
        // Every set's first component is a modality address (never a network), so only elements
        // of the same modality can cover each other; they are adjacent after sorting.
        std::vector<bool> inside(out.size(), false);
        for (std::size_t begin = 0; begin < out.size();) {
            std::size_t end = begin;
            while (end < out.size() && out[end].key[0] == out[begin].key[0]) ++end;
            for (std::size_t i = begin; i < end; ++i)
                for (std::size_t j = begin; j < end && !inside[i]; ++j)
                    inside[i] = i != j && covered_by(out[i], out[j]);
            begin = end;
        }
        std::vector<Element> kept;
        for (std::size_t i = 0; i < out.size(); ++i)
            if (!inside[i]) kept.push_back(std::move(out[i]));
        out = std::move(kept);
    }
    s.elements = std::move(out);
}

Set make_set(std::string name, std::vector<KeyType> key, bool interval = false) {
    Set s;
    s.name = std::move(name);
    s.key = std::move(key);
    s.interval = interval;
    return s;
}

// Host addresses become Ipv4, networks stay Cidr (interval sets print both forms like nft).
Value addr_value(const Cidr& c) { return c.is_host() ? Value{c.addr} : Value{c}; }

struct FlowSets {
    Set out_tcp = make_set("out_tcp", {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
    Set out_udp = make_set("out_udp", {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
    Set in_tcp = make_set("in_tcp", {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
    Set in_udp = make_set("in_udp", {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
};

FlowSets flow_sets(const Policy& p) {
    FlowSets f;
    for (const auto& a : p.allows) {
        const Modality* m = p.find_modality(a.modality);
        const Peer* pe = p.find_peer(a.peer);
        if (!m || !pe) continue;
        Origin o{fmt::format("allow '{}'", a.name), a.loc.line, a.loc.col};
        for (const auto& port : a.ports) {
            bool out = a.direction == Direction::outbound;
            Set& s = port.proto == Proto::tcp ? (out ? f.out_tcp : f.in_tcp) : (out ? f.out_udp : f.in_udp);
            s.elements.push_back(element({Value{m->ip.addr}, addr_value(pe->address), num(port.port)}, o));
        }
    }
    for (Set* s : {&f.out_tcp, &f.out_udp, &f.in_tcp, &f.in_udp}) normalise(*s);
    return f;
}

// ARP is bridged only between a modality and its router or the same-subnet parts of its peers.
Set arp_pairs(const Policy& p) {
    Set s = make_set("arp_pairs", {KeyType::ipv4_addr, KeyType::ipv4_addr}, true);
    for (const auto& m : p.modalities) {
        auto net = m.ip.network();
        Origin mo{fmt::format("modality '{}'", m.name), m.loc.line, m.loc.col};
        if (m.router) s.elements.push_back(element({Value{m.ip.addr}, Value{*m.router}}, mo));
        auto add_peer = [&](const Cidr& c, const Origin& o) {
            if (net.contains(c)) s.elements.push_back(element({Value{m.ip.addr}, addr_value(c)}, o));
            else if (c.contains(net)) s.elements.push_back(element({Value{m.ip.addr}, Value{net}}, o));
        };
        for (const auto& a : p.allows) {
            if (a.modality != m.name) continue;
            if (const Peer* pe = p.find_peer(a.peer))
                add_peer(pe->address, Origin{fmt::format("allow '{}'", a.name), a.loc.line, a.loc.col});
        }
        for (const auto& w : p.maintenance) {
            if (w.modality != m.name) continue;
            if (const Vendor* v = p.find_vendor(w.vendor))
                for (const auto& h : v->hosts)
                    if (h.address)
                        add_peer(*h.address, Origin{fmt::format("maintenance '{}/{}'", w.modality, w.vendor),
                                                    w.loc.line, w.loc.col});
        }
    }
    // A modality never ARPs for itself through the bridge.
    std::erase_if(s.elements, [](const Element& e) {
        const auto* self = std::get_if<Ipv4>(&e.key[0]);
        const auto* other = std::get_if<Ipv4>(&e.key[1]);
        return self && other && *self == *other;
    });
    normalise(s);
    return s;
}

Set modality_set(const Policy& p) {
    Set s = make_set("modalities", {KeyType::ipv4_addr});
    for (const auto& m : p.modalities)
        s.elements.push_back(element({Value{m.ip.addr}}, Origin{fmt::format("modality '{}'", m.name), m.loc.line, m.loc.col}));
    normalise(s);
    return s;
}

Set station_set(const Policy& p) {
    Set s = make_set("stations", {KeyType::ether_addr, KeyType::ipv4_addr});
    for (const auto& m : p.modalities)
        s.elements.push_back(element({Value{m.mac}, Value{m.ip.addr}},
                                     Origin{fmt::format("modality '{}'", m.name), m.loc.line, m.loc.col}));
    normalise(s);
    return s;
}

// ---- tables ---------------------------------------------------------------------------------

Table bridge_table(const Policy& p) {
    const auto& g = p.gateway;
    const bool island = g.mode == Mode::island;
    Table t;
    t.family = Family::bridge;
    t.name = names::table;
    t.sets = {station_set(p), modality_set(p), arp_pairs(p)};

    const auto out = Direction::outbound, in = Direction::inbound;
    Chain pre{"prerouting", base(Hook::prerouting, bridge_filter), {}};
    Chain from_mod{"from_modality", std::nullopt, {}};
    Chain from_net{"from_network", std::nullopt, {}};
    if (!island) {
        pre.rules = {rule({eq(Field::meta_iifname, ifname(g.modality_port)), go_to("from_modality")}, "modality port"),
                     rule({eq(Field::meta_iifname, ifname(g.network_port)), go_to("from_network")}, "network port")};
        // Anti-spoofing: only a listed modality's MAC and IP may enter from the modality port.
        from_mod.rules = {
            rule({not_member({Field::ether_saddr, Field::ip_saddr}, "stations"), jump(drop_name("spoof", out))}, "anti-spoofing"),
            rule({not_member({Field::ether_saddr, Field::arp_saddr_ip}, "stations"), jump(drop_name("spoof", out))},
                 "anti-spoofing"),
            rule({not_member({Field::arp_saddr_ether, Field::arp_saddr_ip}, "stations"), jump(drop_name("spoof", out))},
                 "anti-spoofing"),
        };
        // Divert TCP and UDP of verified modalities to the local stack: the inet table decides.
        for (auto l4 : {value::l4_tcp, value::l4_udp})
            from_mod.rules.push_back(rule({eq(Field::ether_type, num(value::ethertype_ip)), eq(Field::meta_l4proto, num(l4)),
                                           SetField{Field::ether_daddr, Value{g.bridge_mac}},
                                           SetField{Field::meta_pkttype, num(value::pkttype_host)}, accept()},
                                          "divert to proxy"));
        // A modality's address never arrives from the network side.
        from_net.rules = {
            rule({member({Field::ip_saddr}, "modalities"), jump(drop_name("spoof", in))}, "anti-spoofing"),
            rule({member({Field::arp_saddr_ip}, "modalities"), jump(drop_name("spoof", in))}, "anti-spoofing"),
        };
        for (auto l4 : {value::l4_tcp, value::l4_udp})
            from_net.rules.push_back(rule({member({Field::ip_daddr}, "modalities"), eq(Field::meta_l4proto, num(l4)),
                                           SetField{Field::ether_daddr, Value{g.bridge_mac}},
                                           SetField{Field::meta_pkttype, num(value::pkttype_host)}, accept()},
                                          "divert to proxy"));
    }

    Chain fwd{"forward", base(Hook::forward, bridge_filter, true), {}};
    if (island) {
        fwd.rules = {rule({eq(Field::meta_iifname, ifname(g.modality_port)), jump(drop_name("island", out))}, "island"),
                     rule({jump(drop_name("island", in))}, "island")};
    } else {
        auto arp_ok = [&](const std::string& from, const std::string& to, std::vector<Field> key) {
            return rule({eq(Field::meta_iifname, ifname(from)), eq(Field::meta_oifname, ifname(to)),
                         eq(Field::arp_htype, num(1)), eq(Field::arp_ptype, num(value::ethertype_ip)),
                         eq(Field::arp_hlen, num(6)), eq(Field::arp_plen, num(4)),
                         Match{Field::arp_operation, Op::range, num(value::arp_request), num(value::arp_reply)},
                         member(std::move(key), "arp_pairs"), accept()},
                        "ARP between a modality and its peers");
        };
        fwd.rules = {
            arp_ok(g.modality_port, g.network_port, {Field::arp_saddr_ip, Field::arp_daddr_ip}),
            arp_ok(g.network_port, g.modality_port, {Field::arp_daddr_ip, Field::arp_saddr_ip}),
            rule({eq(Field::meta_iifname, ifname(g.modality_port)), eq(Field::ether_type, num(value::ethertype_ip6)),
                  jump(drop_name("ipv6", out))}, "IPv6"),
            rule({eq(Field::meta_iifname, ifname(g.modality_port)), jump(drop_name("bridge", out))}, "default deny"),
            rule({eq(Field::ether_type, num(value::ethertype_ip6)), jump(drop_name("ipv6", in))}, "IPv6"),
            rule({jump(drop_name("bridge", in))}, "default deny"),
        };
    }

    t.chains = {std::move(pre), std::move(fwd)};
    if (!island) {
        t.chains.push_back(std::move(from_mod));
        t.chains.push_back(std::move(from_net));
        for (auto [reason, dir] : {std::pair{"spoof", out}, {"spoof", in}, {"ipv6", out}, {"ipv6", in},
                                   {"bridge", out}, {"bridge", in}})
            t.chains.push_back(drop_chain(g, reason, dir));
    } else {
        t.chains.push_back(drop_chain(g, "island", out));
        t.chains.push_back(drop_chain(g, "island", in));
    }
    return t;
}

Table inet_table(const Policy& p) {
    const auto& g = p.gateway;
    const bool island = g.mode == Mode::island;
    const auto out = Direction::outbound, in = Direction::inbound;
    Table t;
    t.family = Family::inet;
    t.name = names::table;
    auto flows = flow_sets(p);
    Set window = make_set(names::window_set, {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
    window.timeout = window.dynamic = true;
    Set window_in = make_set("window_in_tcp", {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
    window_in.timeout = window_in.dynamic = true;
    t.sets = {modality_set(p), std::move(flows.out_tcp), std::move(flows.out_udp), std::move(flows.in_tcp),
              std::move(flows.in_udp), std::move(window), std::move(window_in)};

    const Value mark = num(names::proxy_mark);
    auto tproxy = [&](std::vector<Field> key, const char* set, const char* what) {
        return rule({member(std::move(key), set), Tproxy{g.proxy_port}, SetField{Field::meta_mark, mark}, accept()}, what);
    };
    const Field ms = Field::ip_saddr, md = Field::ip_daddr;

    Chain pre{"prerouting", base(Hook::prerouting, inet_mangle), {}};
    pre.rules = {rule({eq(Field::meta_iifname, ifname(g.bridge)), go_to("from_bridge")}, "bridge traffic")};

    Chain from{"from_bridge", std::nullopt, {}};
    from.rules.push_back(rule({eq(Field::meta_nfproto, num(value::nfproto_ipv6)), jump(drop_name("ipv6", in))}, "IPv6"));
    if (island) {
        from.rules.push_back(rule({member({ms}, "modalities"), jump(drop_name("island", out))}, "island"));
        from.rules.push_back(rule({jump(drop_name("island", in))}, "island"));
    } else {
        // Established proxy legs: sockets the proxy owns (never its wildcard listeners).
        from.rules.push_back(rule({eq(Field::meta_l4proto, num(value::l4_tcp)), eq(Field::socket_transparent, num(1)),
                                   eq(Field::socket_wildcard, num(0)), SetField{Field::meta_mark, mark}, accept()},
                                  "established proxy legs"));
        from.rules.push_back(rule({member({md, ms, Field::udp_sport}, "out_udp"), eq(Field::socket_transparent, num(1)),
                                   eq(Field::socket_wildcard, num(0)), SetField{Field::meta_mark, mark}, accept()},
                                  "UDP replies to the proxy"));
        from.rules.push_back(rule({member({ms, md, Field::udp_sport}, "in_udp"), eq(Field::socket_transparent, num(1)),
                                   eq(Field::socket_wildcard, num(0)), SetField{Field::meta_mark, mark}, accept()},
                                  "UDP replies to the proxy"));
        from.rules.push_back(tproxy({ms, md, Field::tcp_dport}, "out_tcp", "permitted flows"));
        from.rules.push_back(tproxy({ms, md, Field::udp_dport}, "out_udp", "permitted flows"));
        from.rules.push_back(tproxy({md, ms, Field::tcp_dport}, "in_tcp", "permitted flows"));
        from.rules.push_back(tproxy({md, ms, Field::udp_dport}, "in_udp", "permitted flows"));
        from.rules.push_back(tproxy({ms, md, Field::tcp_dport}, names::window_set, "maintenance windows"));
        from.rules.push_back(tproxy({md, ms, Field::tcp_dport}, "window_in_tcp", "maintenance windows"));
        from.rules.push_back(rule({member({ms}, "modalities"), jump(drop_name("flow", out))}, "default deny"));
        from.rules.push_back(rule({jump(drop_name("flow", in))}, "default deny"));
    }

    Chain input{"input", base(Hook::input, filter_prio), {}};
    input.rules = {
        rule({eq(Field::meta_iifname, ifname(g.bridge)), eq(Field::meta_mark, mark), accept()}, "diverted to the proxy"),
        rule({eq(Field::meta_iifname, ifname(g.bridge)), jump(drop_name("local", in))}, "nothing else reaches the gateway"),
    };

    Chain output{"output", base(Hook::output, filter_prio), {}};
    output.rules = {rule({eq(Field::meta_oifname, ifname(g.bridge)), go_to("to_bridge")}, "proxy upstream legs")};

    Chain to{"to_bridge", std::nullopt, {}};
    if (!island) {
        auto leg = [&](std::vector<Field> key, const char* set) {
            return rule({member(std::move(key), set), Match{Field::ct_state, Op::any_bit, num(value::ct_new), {}}, accept()},
                        "proxy upstream legs");
        };
        to.rules = {
            rule({Match{Field::ct_state, Op::any_bit, num(value::ct_established | value::ct_related), {}}, accept()},
                 "established"),
            leg({ms, md, Field::tcp_dport}, "out_tcp"),
            leg({ms, md, Field::udp_dport}, "out_udp"),
            leg({md, ms, Field::tcp_dport}, "in_tcp"),
            leg({md, ms, Field::udp_dport}, "in_udp"),
            leg({ms, md, Field::tcp_dport}, names::window_set),
            leg({md, ms, Field::tcp_dport}, "window_in_tcp"),
        };
    }
    to.rules.push_back(rule({jump(drop_name("local", out))}, "the gateway sends nothing else"));

    t.chains = {std::move(pre), std::move(input), std::move(output), std::move(from), std::move(to)};
    if (island) {
        t.chains.push_back(drop_chain(g, "island", out));
        t.chains.push_back(drop_chain(g, "island", in));
    } else {
        t.chains.push_back(drop_chain(g, "flow", out));
        t.chains.push_back(drop_chain(g, "flow", in));
    }
    for (auto [reason, dir] : {std::pair{"ipv6", in}, {"local", in}, {"local", out}})
        t.chains.push_back(drop_chain(g, reason, dir));
    return t;
}

// The gateway itself never answers ARP on the clinical segment and asks with sender 0.0.0.0, so
// its management address never appears there (kernel recipe: strict rp_filter routers).
Table arp_table(const Policy& p) {
    const auto& g = p.gateway;
    Table t;
    t.family = Family::arp;
    t.name = names::table;
    Chain input{"input", base(Hook::input, filter_prio), {}};
    input.rules = {rule({eq(Field::meta_iifname, ifname(g.bridge)), eq(Field::arp_operation, num(value::arp_request)),
                         drop()},
                        "never answer ARP on the bridge")};
    Chain output{"output", base(Hook::output, filter_prio), {}};
    output.rules = {
        rule({eq(Field::meta_oifname, ifname(g.bridge)), ne(Field::arp_operation, num(value::arp_request)), drop()},
             "only requests leave"),
        rule({eq(Field::meta_oifname, ifname(g.bridge)), ne(Field::arp_saddr_ip, Value{Ipv4{0}}),
              SetField{Field::arp_saddr_ip, Value{Ipv4{0}}}},
             "hide the management address"),
    };
    t.chains = {std::move(input), std::move(output)};
    return t;
}

}  // namespace

std::string drop_prefix(std::string_view reason, Direction dir) {
    return fmt::format("modgate:{}:{}", reason, to_string(dir));
}

ruleset::Ruleset compile(const Policy& p) {
    Ruleset rs;
    rs.tables = {bridge_table(p), inet_table(p), arp_table(p)};
    return rs;
}

}  // namespace modgate::policy
