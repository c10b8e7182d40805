// The policy compiler: a pure function from the validated policy to the ruleset model, following
// the data path of DESIGN.md and the verified kernel recipe. Permitted flows live in
// concatenated sets, so the number of rules does not depend on the number of modalities.
#include "policy/compile.hpp"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <utility>

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
Chain drop_chain(const Gateway& g, DropReason reason, Direction dir) {
    const auto what = fmt::format("drop {} {}", to_string(reason), to_string(dir));
    Chain c;
    c.name = drop_chain_name(reason, dir);
    c.rules.push_back(rule({Counter{}, Limit{g.drop_log.rate, g.drop_log.burst},
                            Log{drop_prefix(reason, dir), g.drop_log.group}},
                           what));
    c.rules.push_back(rule({drop()}, what));
    return c;
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

// Addresses order numerically whether they are hosts or networks (10.0.0.1 < 10.0.0.128/25).
std::pair<std::uint64_t, std::uint64_t> rank(const Value& v) {
    if (const auto* a = std::get_if<Ipv4>(&v)) return {a->value, 32};
    if (const auto* c = std::get_if<Cidr>(&v)) return {c->addr.value, c->len};
    if (const auto* n = std::get_if<std::uint64_t>(&v)) return {*n, 0};
    if (const auto* m = std::get_if<Mac>(&v)) {
        std::uint64_t x = 0;
        for (auto b : m->bytes) x = x << 8 | b;
        return {x, 0};
    }
    return {0, 0};
}

bool key_less(const Element& a, const Element& b) {
    for (std::size_t i = 0; i < a.key.size() && i < b.key.size(); ++i) {
        auto ra = rank(a.key[i]), rb = rank(b.key[i]);
        if (ra != rb) return ra < rb;
    }
    return a.key.size() < b.key.size();
}

// Removes the elements of a sorted list that lie inside another one.
std::vector<Element> without_covered(std::vector<Element> sorted) {
    // Every set's first component is a modality address (never a network), so only elements
    // of the same modality can cover each other; they are adjacent after sorting.
    std::vector<bool> inside(sorted.size(), false);
    for (std::size_t begin = 0; begin < sorted.size();) {
        std::size_t end = begin;
        while (end < sorted.size() && sorted[end].key[0] == sorted[begin].key[0]) ++end;
        for (std::size_t i = begin; i < end; ++i)
            for (std::size_t j = begin; j < end && !inside[i]; ++j)
                inside[i] = i != j && covered_by(sorted[i], sorted[j]);
        begin = end;
    }
    std::vector<Element> kept;
    for (std::size_t i = 0; i < sorted.size(); ++i)
        if (!inside[i]) kept.push_back(std::move(sorted[i]));
    return kept;
}

// Sorts, removes duplicates and, in interval sets, elements inside others (the kernel refuses
// overlapping intervals; the validator has already warned about shadowed allows).
void normalise(Set& s) {
    std::stable_sort(s.elements.begin(), s.elements.end(), key_less);
    std::vector<Element> unique;
    for (auto& e : s.elements) {
        if (!unique.empty() && unique.back().key == e.key) continue;
        unique.push_back(std::move(e));
    }
    s.elements = s.interval ? without_covered(std::move(unique)) : std::move(unique);
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
    Set out_tcp = make_set(names::out_tcp, {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
    Set out_udp = make_set(names::out_udp, {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
    Set in_tcp = make_set(names::in_tcp, {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
    Set in_udp = make_set(names::in_udp, {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
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
    Set s = make_set(names::arp_pairs, {KeyType::ipv4_addr, KeyType::ipv4_addr}, true);
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
    Set s = make_set(names::modalities, {KeyType::ipv4_addr});
    for (const auto& m : p.modalities)
        s.elements.push_back(element({Value{m.ip.addr}}, Origin{fmt::format("modality '{}'", m.name), m.loc.line, m.loc.col}));
    normalise(s);
    return s;
}

Set station_set(const Policy& p) {
    Set s = make_set(names::stations, {KeyType::ether_addr, KeyType::ipv4_addr});
    for (const auto& m : p.modalities)
        s.elements.push_back(element({Value{m.mac}, Value{m.ip.addr}},
                                     Origin{fmt::format("modality '{}'", m.name), m.loc.line, m.loc.col}));
    normalise(s);
    return s;
}

// ---- pieces both rulesets share ------------------------------------------------------------

using enum Direction;  // outbound, inbound

Verdict to_drop(DropReason reason, Direction dir) { return jump(drop_chain_name(reason, dir)); }

void add_drop_chains(Table& t, const Gateway& g, std::initializer_list<std::pair<DropReason, Direction>> which) {
    for (auto [reason, dir] : which) t.chains.push_back(drop_chain(g, reason, dir));
}

Table bridge_skeleton(const Policy& p) {
    Table t;
    t.family = Family::bridge;
    t.name = names::table;
    t.sets = {station_set(p), modality_set(p), arp_pairs(p)};
    return t;
}

// Window sets: the daemon adds elements with kernel timeouts, so a window closes even without it.
Set timed_flow_set(const char* name) {
    Set s = make_set(name, {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true);
    s.timeout = s.dynamic = true;
    return s;
}

Table inet_skeleton(const Policy& p) {
    Table t;
    t.family = Family::inet;
    t.name = names::table;
    auto flows = flow_sets(p);
    t.sets = {modality_set(p), std::move(flows.out_tcp), std::move(flows.out_udp), std::move(flows.in_tcp),
              std::move(flows.in_udp), timed_flow_set(names::window_set), timed_flow_set(names::window_in_set)};
    return t;
}

Value proxy_mark() { return num(names::proxy_mark); }

Chain inet_prerouting(const Gateway& g) {
    return {names::prerouting, base(Hook::prerouting, inet_mangle),
            {rule({eq(Field::meta_iifname, ifname(g.bridge)), go_to(names::from_bridge)}, "bridge traffic")}};
}

// The first rule of from_bridge in every mode.
Rule inet_no_ipv6() {
    return rule({eq(Field::meta_nfproto, num(value::nfproto_ipv6)), to_drop(DropReason::ipv6, inbound)}, "IPv6");
}

Chain inet_input(const Gateway& g) {
    return {names::input, base(Hook::input, filter_prio),
            {rule({eq(Field::meta_iifname, ifname(g.bridge)), eq(Field::meta_mark, proxy_mark()), accept()},
                  "diverted to the proxy"),
             rule({eq(Field::meta_iifname, ifname(g.bridge)), to_drop(DropReason::local, inbound)},
                  "nothing else reaches the gateway")}};
}

Chain inet_output(const Gateway& g) {
    return {names::output, base(Hook::output, filter_prio),
            {rule({eq(Field::meta_oifname, ifname(g.bridge)), go_to(names::to_bridge)}, "proxy upstream legs")}};
}

// The last rule of to_bridge in every mode.
Rule inet_nothing_else_leaves() { return rule({to_drop(DropReason::local, outbound)}, "the gateway sends nothing else"); }

// ---- enforce: the bridge table --------------------------------------------------------------

Chain bridge_prerouting(const Gateway& g) {
    return {names::prerouting, base(Hook::prerouting, bridge_filter),
            {rule({eq(Field::meta_iifname, ifname(g.modality_port)), go_to(names::from_modality)}, "modality port"),
             rule({eq(Field::meta_iifname, ifname(g.network_port)), go_to(names::from_network)}, "network port")}};
}

// Rewrites the frame to the bridge's own MAC so the local stack takes it: the inet table decides.
Rule divert(Stmt first, std::uint64_t l4, const Gateway& g) {
    return rule({std::move(first), eq(Field::meta_l4proto, num(l4)), SetField{Field::ether_daddr, Value{g.bridge_mac}},
                 SetField{Field::meta_pkttype, num(value::pkttype_host)}, accept()},
                "divert to proxy");
}

Chain from_modality_chain(const Gateway& g) {
    // Anti-spoofing: only a listed modality's MAC and IP may enter from the modality port.
    Chain c{names::from_modality, std::nullopt, {}};
    const std::vector<std::vector<Field>> keys = {
        {Field::ether_saddr, Field::ip_saddr}, {Field::ether_saddr, Field::arp_saddr_ip},
        {Field::arp_saddr_ether, Field::arp_saddr_ip}};
    for (const auto& key : keys)
        c.rules.push_back(rule({not_member(key, names::stations), to_drop(DropReason::spoof, outbound)}, "anti-spoofing"));
    // Divert TCP and UDP of verified modalities to the local stack.
    for (auto l4 : {value::l4_tcp, value::l4_udp})
        c.rules.push_back(divert(eq(Field::ether_type, num(value::ethertype_ip)), l4, g));
    return c;
}

Chain from_network_chain(const Gateway& g) {
    // A modality's address never arrives from the network side.
    Chain c{names::from_network, std::nullopt, {}};
    for (auto f : {Field::ip_saddr, Field::arp_saddr_ip})
        c.rules.push_back(rule({member({f}, names::modalities), to_drop(DropReason::spoof, inbound)}, "anti-spoofing"));
    for (auto l4 : {value::l4_tcp, value::l4_udp})
        c.rules.push_back(divert(member({Field::ip_daddr}, names::modalities), l4, g));
    return c;
}

Rule arp_between(const std::string& from, const std::string& to, std::vector<Field> key) {
    return rule({eq(Field::meta_iifname, ifname(from)), eq(Field::meta_oifname, ifname(to)),
                 eq(Field::arp_htype, num(1)), eq(Field::arp_ptype, num(value::ethertype_ip)),
                 eq(Field::arp_hlen, num(6)), eq(Field::arp_plen, num(4)),
                 Match{Field::arp_operation, Op::range, num(value::arp_request), num(value::arp_reply)},
                 member(std::move(key), names::arp_pairs), accept()},
                "ARP between a modality and its peers");
}

Chain bridge_forward(const Gateway& g) {
    const auto from_modality = eq(Field::meta_iifname, ifname(g.modality_port));
    const auto ip6 = eq(Field::ether_type, num(value::ethertype_ip6));
    return {names::forward, base(Hook::forward, bridge_filter, true),
            {arp_between(g.modality_port, g.network_port, {Field::arp_saddr_ip, Field::arp_daddr_ip}),
             arp_between(g.network_port, g.modality_port, {Field::arp_daddr_ip, Field::arp_saddr_ip}),
             rule({from_modality, ip6, to_drop(DropReason::ipv6, outbound)}, "IPv6"),
             rule({from_modality, to_drop(DropReason::bridge, outbound)}, "default deny"),
             rule({ip6, to_drop(DropReason::ipv6, inbound)}, "IPv6"),
             rule({to_drop(DropReason::bridge, inbound)}, "default deny")}};
}

Table bridge_table(const Policy& p) {
    const auto& g = p.gateway;
    Table t = bridge_skeleton(p);
    t.chains = {bridge_prerouting(g), bridge_forward(g), from_modality_chain(g), from_network_chain(g)};
    add_drop_chains(t, g, {{DropReason::spoof, outbound}, {DropReason::spoof, inbound}, {DropReason::ipv6, outbound},
                           {DropReason::ipv6, inbound}, {DropReason::bridge, outbound}, {DropReason::bridge, inbound}});
    return t;
}

// ---- enforce: the inet table ----------------------------------------------------------------

const Field ms = Field::ip_saddr, md = Field::ip_daddr;  // the modality's side as source or destination

Rule tproxy(const Gateway& g, std::vector<Field> key, const char* set, const char* what) {
    return rule({member(std::move(key), set), Tproxy{g.proxy_port}, SetField{Field::meta_mark, proxy_mark()}, accept()},
                what);
}

// Packets to sockets the proxy owns (never its wildcard listeners).
Rule to_proxy_socket(Stmt first, const char* what) {
    return rule({std::move(first), eq(Field::socket_transparent, num(1)), eq(Field::socket_wildcard, num(0)),
                 SetField{Field::meta_mark, proxy_mark()}, accept()},
                what);
}

Chain from_bridge_chain(const Gateway& g) {
    return {names::from_bridge, std::nullopt,
            {inet_no_ipv6(),
             to_proxy_socket(eq(Field::meta_l4proto, num(value::l4_tcp)), "established proxy legs"),
             to_proxy_socket(member({md, ms, Field::udp_sport}, names::out_udp), "UDP replies to the proxy"),
             to_proxy_socket(member({ms, md, Field::udp_sport}, names::in_udp), "UDP replies to the proxy"),
             tproxy(g, {ms, md, Field::tcp_dport}, names::out_tcp, "permitted flows"),
             tproxy(g, {ms, md, Field::udp_dport}, names::out_udp, "permitted flows"),
             tproxy(g, {md, ms, Field::tcp_dport}, names::in_tcp, "permitted flows"),
             tproxy(g, {md, ms, Field::udp_dport}, names::in_udp, "permitted flows"),
             tproxy(g, {ms, md, Field::tcp_dport}, names::window_set, "maintenance windows"),
             tproxy(g, {md, ms, Field::tcp_dport}, names::window_in_set, "maintenance windows"),
             rule({member({ms}, names::modalities), to_drop(DropReason::flow, outbound)}, "default deny"),
             rule({to_drop(DropReason::flow, inbound)}, "default deny")}};
}

Rule upstream_leg(std::vector<Field> key, const char* set) {
    return rule({member(std::move(key), set), Match{Field::ct_state, Op::any_bit, num(value::ct_new), {}}, accept()},
                "proxy upstream legs");
}

Chain to_bridge_chain() {
    return {names::to_bridge, std::nullopt,
            {rule({Match{Field::ct_state, Op::any_bit, num(value::ct_established | value::ct_related), {}}, accept()},
                  "established"),
             upstream_leg({ms, md, Field::tcp_dport}, names::out_tcp),
             upstream_leg({ms, md, Field::udp_dport}, names::out_udp),
             upstream_leg({md, ms, Field::tcp_dport}, names::in_tcp),
             upstream_leg({md, ms, Field::udp_dport}, names::in_udp),
             upstream_leg({ms, md, Field::tcp_dport}, names::window_set),
             upstream_leg({md, ms, Field::tcp_dport}, names::window_in_set),
             inet_nothing_else_leaves()}};
}

Table inet_table(const Policy& p) {
    const auto& g = p.gateway;
    Table t = inet_skeleton(p);
    t.chains = {inet_prerouting(g), inet_input(g), inet_output(g), from_bridge_chain(g), to_bridge_chain()};
    add_drop_chains(t, g, {{DropReason::flow, outbound}, {DropReason::flow, inbound}, {DropReason::ipv6, inbound},
                           {DropReason::local, inbound}, {DropReason::local, outbound}});
    return t;
}

// ---- island: everything to and from the modalities is dropped -------------------------------
// The same tables, sets and base chains as enforce (the daemon switches modes by replacing the
// ruleset, and the window sets keep their names), with no path through.

Table island_bridge_table(const Policy& p) {
    const auto& g = p.gateway;
    Table t = bridge_skeleton(p);
    Chain pre{names::prerouting, base(Hook::prerouting, bridge_filter), {}};
    Chain fwd{names::forward, base(Hook::forward, bridge_filter, true),
              {rule({eq(Field::meta_iifname, ifname(g.modality_port)), to_drop(DropReason::island, outbound)}, "island"),
               rule({to_drop(DropReason::island, inbound)}, "island")}};
    t.chains = {std::move(pre), std::move(fwd)};
    add_drop_chains(t, g, {{DropReason::island, outbound}, {DropReason::island, inbound}});
    return t;
}

Table island_inet_table(const Policy& p) {
    const auto& g = p.gateway;
    Table t = inet_skeleton(p);
    Chain from{names::from_bridge, std::nullopt,
               {inet_no_ipv6(),
                rule({member({ms}, names::modalities), to_drop(DropReason::island, outbound)}, "island"),
                rule({to_drop(DropReason::island, inbound)}, "island")}};
    Chain to{names::to_bridge, std::nullopt, {inet_nothing_else_leaves()}};
    t.chains = {inet_prerouting(g), inet_input(g), inet_output(g), std::move(from), std::move(to)};
    add_drop_chains(t, g, {{DropReason::island, outbound}, {DropReason::island, inbound}, {DropReason::ipv6, inbound},
                           {DropReason::local, inbound}, {DropReason::local, outbound}});
    return t;
}

// ---- both -----------------------------------------------------------------------------------

// The gateway itself never answers ARP on the clinical segment and asks with sender 0.0.0.0, so
// its management address never appears there (kernel recipe: strict rp_filter routers).
Table arp_table(const Policy& p) {
    const auto& g = p.gateway;
    Table t;
    t.family = Family::arp;
    t.name = names::table;
    Chain input{names::input, base(Hook::input, filter_prio), {}};
    input.rules = {rule({eq(Field::meta_iifname, ifname(g.bridge)), eq(Field::arp_operation, num(value::arp_request)),
                         drop()},
                        "never answer ARP on the bridge")};
    Chain output{names::output, base(Hook::output, filter_prio), {}};
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

ruleset::Ruleset default_deny() {
    Table t;
    t.family = Family::bridge;
    t.name = names::table;
    t.chains = {Chain{names::forward, base(Hook::forward, bridge_filter, true), {}}};
    Ruleset rs;
    rs.tables = {std::move(t)};
    return rs;
}

ruleset::Ruleset compile(const Policy& p, Mode mode) {
    Ruleset rs;
    switch (mode) {
        case Mode::enforce: rs.tables = {bridge_table(p), inet_table(p), arp_table(p)}; return rs;
        case Mode::island: rs.tables = {island_bridge_table(p), island_inet_table(p), arp_table(p)}; return rs;
        case Mode::learn: break;
    }
    // Learn forwards the modalities' traffic and observes copies; none of that is written yet, and
    // the enforce ruleset in its place would claim a mode the gateway is not in.
    throw std::logic_error("learn mode has no compiler yet");
}

ruleset::Ruleset compile(const Policy& p) { return compile(p, p.gateway.mode); }

}  // namespace modgate::policy
