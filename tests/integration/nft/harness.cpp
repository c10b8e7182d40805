// Shell helpers, canonical forms and prototype models for the netlink engine's root tests.
#include "tests/integration/nft/harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "gateway/nft/insn.hpp"
#include "gateway/nft/kernel_state.hpp"
#include "gateway/nft/netlink.hpp"
#include "policy/render.hpp"

namespace modgate::nfttest {

using namespace ruleset;

Cmd run(const std::string& cmd, bool merge) {
    Cmd c;
    std::string full = merge ? cmd + " 2>&1" : cmd;
    FILE* p = popen(full.c_str(), "r");
    if (!p) return c;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) c.out.append(buf, n);
    int st = pclose(p);
    c.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return c;
}

std::string must(const std::string& cmd) {
    auto c = run(cmd, true);
    if (c.status != 0) throw std::runtime_error(fmt::format("`{}` failed ({}): {}", cmd, c.status, c.out));
    return c.out;
}

std::string self_ns() {
    const char* s = std::getenv("MODGATE_NS_SELF");
    return s ? s : "";
}
std::string oracle_ns() {
    const char* s = std::getenv("MODGATE_NS_ORACLE");
    if (!s) throw std::runtime_error("MODGATE_NS_ORACLE unset: run through run_in_netns.sh");
    return s;
}
std::string in_oracle(const std::string& cmd) { return fmt::format("ip netns exec {} {}", oracle_ns(), cmd); }

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string l; std::getline(ss, l);) out.push_back(l);
    return out;
}

std::string trim(std::string s) {
    auto b = s.find_first_not_of(" \t");
    auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits "a, b, c" at commas outside quotes.
std::vector<std::string> split_elements(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (char c : s) {
        if (c == '"') quoted = !quoted;
        if (c == ',' && !quoted) {
            out.push_back(trim(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!trim(cur).empty()) out.push_back(trim(cur));
    return out;
}

}  // namespace

std::string canonical_listing(const std::string& text) {
    static const std::regex preamble(R"(^(table \S+ \S+ \{\}|flush (table|set) .*)$)");
    static const std::regex counter(R"(counter packets \d+ bytes \d+)");
    static const std::regex expires(R"( expires [0-9dhms]+)");
    std::string out;
    auto lines = lines_of(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string l = lines[i];
        if (std::regex_match(l, preamble)) continue;
        l = std::regex_replace(l, counter, "counter");
        l = std::regex_replace(l, expires, "");
        auto pos = l.find("elements = { ");
        if (pos != std::string::npos) {
            std::string body = l.substr(pos + 13);
            while (body.find(" }") == std::string::npos || body.substr(body.size() - 2) != " }") {
                if (++i >= lines.size()) break;
                body += std::regex_replace(lines[i], expires, "");
            }
            body = body.substr(0, body.size() - 2);
            auto elems = split_elements(body);
            std::sort(elems.begin(), elems.end());
            out += l.substr(0, pos) + "elements = {\n";
            for (const auto& e : elems) out += "\t\t\t" + e + "\n";
            out += "\t\t}\n";
            continue;
        }
        out += l + "\n";
    }
    return out;
}

std::string canonical_bytecode(const std::string& text) {
    static const std::regex rule_header(R"(^(\S+ \S+ \S+)( \d+)+$)");
    static const std::regex counter(R"(\[ counter pkts \d+ bytes \d+ \])");
    struct Block {
        std::string header;
        std::vector<std::string> body;
    };
    std::vector<Block> sets, rules;
    Block* cur = nullptr;
    for (auto l : lines_of(text)) {
        if (l.starts_with("table ")) break;  // the plain listing nft prints after the debug output
        if (l.empty()) continue;
        if (l.find(" @") != std::string::npos && l[0] != '\t' && l[0] != ' ') {
            sets.push_back({l, {}});
            cur = &sets.back();
        } else if (l[0] != '\t' && l[0] != ' ') {
            rules.push_back({std::regex_replace(l, rule_header, "$1"), {}});
            cur = &rules.back();
        } else if (cur) {
            cur->body.push_back(std::regex_replace(l, counter, "[ counter ]"));
        }
    }
    std::string out;
    std::sort(sets.begin(), sets.end(), [](const Block& a, const Block& b) { return a.header < b.header; });
    for (auto& s : sets) {
        std::sort(s.body.begin(), s.body.end());
        out += s.header + "\n";
        for (const auto& b : s.body) out += b + "\n";
    }
    for (const auto& r : rules) {
        out += r.header + "\n";
        for (const auto& b : r.body) out += b + "\n";
    }
    return out;
}

std::string show_diff(const std::string& want, const std::string& got) {
    auto a = lines_of(want), b = lines_of(got);
    std::string out;
    std::size_t n = std::max(a.size(), b.size()), shown = 0;
    for (std::size_t i = 0; i < n && shown < 40; ++i) {
        std::string x = i < a.size() ? a[i] : "<none>", y = i < b.size() ? b[i] : "<none>";
        if (x == y) continue;
        out += fmt::format("line {}:\n  want: {}\n  got:  {}\n", i + 1, x, y);
        ++shown;
    }
    return out.empty() ? "(identical)" : out;
}

namespace {

std::string hex(const nft::Bytes& b) {
    std::string s;
    for (auto c : b) s += fmt::format("{:02x}", c);
    return s + "/" + std::to_string(b.size());
}

struct Print {
    std::string operator()(const nft::insn::Meta& i) const { return fmt::format("meta key={} dreg={}", i.key, i.dreg); }
    std::string operator()(const nft::insn::Payload& i) const {
        return fmt::format("payload base={} off={} len={} dreg={}", i.base, i.offset, i.len, i.dreg);
    }
    std::string operator()(const nft::insn::Ct& i) const { return fmt::format("ct key={} dreg={}", i.key, i.dreg); }
    std::string operator()(const nft::insn::Socket& i) const { return fmt::format("socket key={} dreg={}", i.key, i.dreg); }
    std::string operator()(const nft::insn::Cmp& i) const { return fmt::format("cmp sreg={} op={} {}", i.sreg, i.op, hex(i.data)); }
    std::string operator()(const nft::insn::Range& i) const {
        return fmt::format("range sreg={} op={} {} {}", i.sreg, i.op, hex(i.from), hex(i.to));
    }
    std::string operator()(const nft::insn::Bitwise& i) const {
        return fmt::format("bitwise {}->{} len={} mask={} xor={}", i.sreg, i.dreg, i.len, hex(i.mask), hex(i.xor_));
    }
    std::string operator()(const nft::insn::Byteorder& i) const {
        return fmt::format("byteorder {}->{} op={} len={} size={}", i.sreg, i.dreg, i.op, i.len, i.size);
    }
    std::string operator()(const nft::insn::Lookup& i) const { return fmt::format("lookup sreg={} set={} flags={}", i.sreg, i.set, i.flags); }
    std::string operator()(const nft::insn::Immediate& i) const { return fmt::format("immediate dreg={} {}", i.dreg, hex(i.data)); }
    std::string operator()(const nft::insn::Verdict& i) const { return fmt::format("verdict {} {}", i.code, i.chain); }
    std::string operator()(const nft::insn::MetaSet& i) const { return fmt::format("meta set key={} sreg={}", i.key, i.sreg); }
    std::string operator()(const nft::insn::PayloadSet& i) const {
        return fmt::format("payload write sreg={} base={} off={} len={} csum={}/{}/{}", i.sreg, i.base, i.offset, i.len, i.csum_type,
                           i.csum_offset, i.csum_flags);
    }
    std::string operator()(const nft::insn::Counter&) const { return "counter"; }
    std::string operator()(const nft::insn::Limit& i) const {
        return fmt::format("limit rate={} unit={} burst={} type={} flags={}", i.rate, i.unit, i.burst, i.type, i.flags);
    }
    std::string operator()(const nft::insn::Log& i) const { return fmt::format("log prefix={} group={}/{}", i.prefix, i.group, i.has_group); }
    std::string operator()(const nft::insn::Tproxy& i) const { return fmt::format("tproxy family={} port_reg={}", i.family, i.port_reg); }
    std::string operator()(const nft::insn::Unknown& i) const { return "unknown " + i.text; }
};

}  // namespace

std::string raw_dump(const std::vector<std::pair<Family, std::string>>& tables) {
    auto sock = nft::Socket::open();
    if (!sock) return "error: " + sock.error().message;
    std::string out;
    for (const auto& [fam, name] : tables) {
        auto k = nft::read_structure(*sock, fam, name);
        if (!k) return "error: " + k.error().message;
        out += fmt::format("table {} {} exists={}\n", to_string(fam), name, k->exists);
        auto sets = k->sets;
        std::sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
        for (const auto& s : sets) {
            if (s.anonymous) continue;
            out += fmt::format("  set {} flags={:#x} type={:#x} len={} fields={} udata={}\n", s.name, s.wire.flags, s.wire.key_type,
                               s.wire.key_len, hex(s.wire.field_len), hex(s.wire.userdata));
            auto el = nft::read_elements(*sock, fam, name, s.name);
            if (!el) return "error: " + el.error().message;
            std::vector<std::string> elems;
            for (const auto& e : el->elems)
                elems.push_back(fmt::format("    elem key={} end={} flags={} timeout={} udata={}", hex(e.key), hex(e.key_end), e.flags,
                                            e.timeout_ms, hex(e.userdata)));
            std::sort(elems.begin(), elems.end());
            for (const auto& e : elems) out += e + "\n";
        }
        for (const auto& c : k->chains)
            out += fmt::format("  chain {} base={} hook={} prio={} type={} policy={}\n", c.name, c.base, c.hook, c.prio, c.type, c.policy);
        auto rules = nft::read_rules(*sock, fam, name);
        if (!rules) return "error: " + rules.error().message;
        for (const auto& r : *rules) {
            out += fmt::format("  rule {} udata={}\n", r.chain, hex(r.code.userdata));
            for (const auto& i : r.code.insns) out += "    " + std::visit(Print{}, i) + "\n";
        }
    }
    return out;
}

// ---- models ------------------------------------------------------------------------------

namespace {

Value num(std::uint64_t v) { return Value{v}; }
Value str(const char* s) { return Value{std::string(s)}; }
Value ip(const char* s) { return Value{*Ipv4::parse(s)}; }
Value net(const char* s) { return Value{*Cidr::parse(s)}; }
Value mac(const char* s) { return Value{*Mac::parse(s)}; }
Match eq(Field f, Value v) { return Match{f, Op::eq, std::move(v), {}}; }
Match ne(Field f, Value v) { return Match{f, Op::ne, std::move(v), {}}; }
Lookup in(std::vector<Field> k, std::string s) { return Lookup{std::move(k), std::move(s), false}; }
Lookup not_in(std::vector<Field> k, std::string s) { return Lookup{std::move(k), std::move(s), true}; }
Verdict accept() { return {Verdict::Kind::accept, {}}; }
Verdict drop() { return {Verdict::Kind::drop, {}}; }
Verdict jump(std::string c) { return {Verdict::Kind::jump, std::move(c)}; }
Verdict go_to(std::string c) { return {Verdict::Kind::go_to, std::move(c)}; }

Rule rule(std::vector<Stmt> s, std::string what, std::string comment = {}) {
    Rule r;
    r.stmts = std::move(s);
    r.origin.what = std::move(what);
    r.comment = std::move(comment);
    return r;
}

Set set(std::string name, std::vector<KeyType> key, bool interval, std::vector<std::vector<Value>> elems) {
    Set s;
    s.name = std::move(name);
    s.key = std::move(key);
    s.interval = interval;
    for (auto& e : elems) {
        Element el;
        el.key = std::move(e);
        s.elements.push_back(std::move(el));
    }
    return s;
}

Chain base(std::string name, Hook h, std::int32_t prio, bool policy_drop, std::vector<Rule> rules) {
    Chain c;
    c.name = std::move(name);
    c.base = BaseChain{h, prio, policy_drop};
    c.rules = std::move(rules);
    return c;
}

Chain chain(std::string name, std::vector<Rule> rules) {
    Chain c;
    c.name = std::move(name);
    c.rules = std::move(rules);
    return c;
}

Chain drop_chain(const std::string& name, const std::string& prefix) {
    return chain(name, {rule({Counter{}, Limit{10, 20}, Log{prefix, 1}}, name), rule({drop()}, name)});
}

}  // namespace

Table proto_bridge() {
    Table t;
    t.family = Family::bridge;
    t.name = "modgate";
    t.sets = {set("stations", {KeyType::ether_addr, KeyType::ipv4_addr}, false,
                  {{mac("00:16:3e:12:34:56"), ip("10.20.30.40")}, {mac("00:16:3e:12:34:57"), ip("10.20.30.41")}}),
              set("modalities", {KeyType::ipv4_addr}, false, {{ip("10.20.30.40")}, {ip("10.20.30.41")}}),
              set("arp_pairs", {KeyType::ipv4_addr, KeyType::ipv4_addr}, true,
                  {{ip("10.20.30.40"), ip("10.20.30.1")}, {ip("10.20.30.41"), net("10.20.31.0/24")}})};
    const Value br = mac("02:00:00:00:00:01");
    auto divert = [&](std::uint64_t l4) {
        return rule({eq(Field::ether_type, num(value::ethertype_ip)), eq(Field::meta_l4proto, num(l4)), SetField{Field::ether_daddr, br},
                     SetField{Field::meta_pkttype, num(value::pkttype_host)}, accept()},
                    "divert to the proxy");
    };
    auto divert_in = [&](std::uint64_t l4) {
        return rule({in({Field::ip_daddr}, "modalities"), eq(Field::meta_l4proto, num(l4)), SetField{Field::ether_daddr, br},
                     SetField{Field::meta_pkttype, num(value::pkttype_host)}, accept()},
                    "divert to the proxy");
    };
    auto arp_ok = [&](const char* from, const char* to, std::vector<Field> key) {
        return rule({eq(Field::meta_iifname, str(from)), eq(Field::meta_oifname, str(to)), eq(Field::arp_htype, num(1)),
                     eq(Field::arp_ptype, num(value::ethertype_ip)), eq(Field::arp_hlen, num(6)), eq(Field::arp_plen, num(4)),
                     Match{Field::arp_operation, Op::range, num(value::arp_request), num(value::arp_reply)}, in(std::move(key), "arp_pairs"),
                     accept()},
                    "direction-checked ARP", "arp");
    };
    t.chains = {
        base("prerouting", Hook::prerouting, -200, false,
             {rule({eq(Field::meta_iifname, str("gs0")), go_to("from_modality")}, "modality port"),
              rule({eq(Field::meta_iifname, str("gh0")), go_to("from_network")}, "network port")}),
        chain("from_modality",
              {rule({not_in({Field::ether_saddr, Field::ip_saddr}, "stations"), jump("drop_spoof_out")}, "anti-spoofing"),
               rule({not_in({Field::ether_saddr, Field::arp_saddr_ip}, "stations"), jump("drop_spoof_out")}, "anti-spoofing"),
               rule({not_in({Field::arp_saddr_ether, Field::arp_saddr_ip}, "stations"), jump("drop_spoof_out")}, "anti-spoofing"),
               divert(value::l4_tcp), divert(value::l4_udp)}),
        chain("from_network", {rule({in({Field::ip_saddr}, "modalities"), jump("drop_spoof_in")}, "anti-spoofing"),
                               rule({in({Field::arp_saddr_ip}, "modalities"), jump("drop_spoof_in")}, "anti-spoofing"),
                               divert_in(value::l4_tcp), divert_in(value::l4_udp)}),
        base("forward", Hook::forward, -200, true,
             {arp_ok("gs0", "gh0", {Field::arp_saddr_ip, Field::arp_daddr_ip}),
              arp_ok("gh0", "gs0", {Field::arp_daddr_ip, Field::arp_saddr_ip}),
              rule({eq(Field::meta_iifname, str("gs0")), eq(Field::ether_type, num(value::ethertype_ip6)), jump("drop_ipv6_out")}, "IPv6"),
              rule({eq(Field::meta_iifname, str("gs0")), jump("drop_bridge_out")}, "default deny"),
              rule({eq(Field::ether_type, num(value::ethertype_ip6)), jump("drop_ipv6_in")}, "IPv6"),
              rule({jump("drop_bridge_in")}, "default deny")}),
        drop_chain("drop_spoof_out", "modgate:spoof:out"),
        drop_chain("drop_spoof_in", "modgate:spoof:in"),
        drop_chain("drop_ipv6_out", "modgate:ipv6:out"),
        drop_chain("drop_ipv6_in", "modgate:ipv6:in"),
        drop_chain("drop_bridge_out", "modgate:bridge:out"),
        drop_chain("drop_bridge_in", "modgate:bridge:in"),
    };
    return t;
}

Table proto_inet() {
    Table t;
    t.family = Family::inet;
    t.name = "modgate";
    const std::vector<KeyType> flow = {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service};
    t.sets = {set("out_tcp", flow, true,
                  {{ip("10.20.30.40"), ip("10.20.1.5"), num(104)}, {ip("10.20.30.40"), net("10.20.2.0/24"), num(443)},
                   {ip("10.20.30.41"), ip("10.20.1.5"), num(104)}}),
              set("out_udp", flow, true, {{ip("10.20.30.40"), net("10.20.0.0/16"), num(123)}}),
              set("in_tcp", flow, true, {{ip("10.20.30.40"), ip("10.20.1.5"), num(104)}}),
              set("in_udp", flow, true, {}),
              set("window_tcp", flow, true, {}),
              set("window_in_tcp", flow, true, {})};
    for (auto& s : t.sets)
        if (s.name.starts_with("window")) s.timeout = s.dynamic = true;
    const Value mark = num(1);
    auto tproxy = [&](std::vector<Field> key, const char* s) {
        return rule({in(std::move(key), s), Tproxy{15001}, SetField{Field::meta_mark, mark}, accept()}, "permitted flows");
    };
    auto leg = [&](std::vector<Field> key, const char* s) {
        return rule({in(std::move(key), s), Match{Field::ct_state, Op::any_bit, num(value::ct_new), {}}, accept()}, "upstream leg");
    };
    const Field ms = Field::ip_saddr, md = Field::ip_daddr;
    t.chains = {
        base("prerouting", Hook::prerouting, -150, false, {rule({eq(Field::meta_iifname, str("br0")), go_to("from_bridge")}, "bridge traffic")}),
        chain("from_bridge",
              {rule({eq(Field::meta_nfproto, num(value::nfproto_ipv6)), jump("drop_ipv6_in")}, "IPv6"),
               rule({eq(Field::meta_l4proto, num(value::l4_tcp)), eq(Field::socket_transparent, num(1)), eq(Field::socket_wildcard, num(0)),
                     SetField{Field::meta_mark, mark}, accept()},
                    "established proxy legs"),
               rule({in({md, ms, Field::udp_sport}, "out_udp"), eq(Field::socket_transparent, num(1)), eq(Field::socket_wildcard, num(0)),
                     SetField{Field::meta_mark, mark}, accept()},
                    "udp replies"),
               tproxy({ms, md, Field::tcp_dport}, "out_tcp"), tproxy({ms, md, Field::udp_dport}, "out_udp"),
               tproxy({md, ms, Field::tcp_dport}, "in_tcp"), tproxy({md, ms, Field::udp_dport}, "in_udp"),
               tproxy({ms, md, Field::tcp_dport}, "window_tcp"), tproxy({md, ms, Field::tcp_dport}, "window_in_tcp"),
               rule({jump("drop_local_in")}, "nothing else", "default deny")}),
        base("input", Hook::input, 0, false,
             {rule({eq(Field::meta_iifname, str("lo")), accept()}, "loopback"),
              rule({eq(Field::meta_iifname, str("br0")), eq(Field::meta_mark, mark), accept()}, "diverted to the proxy"),
              rule({eq(Field::meta_iifname, str("br0")), jump("drop_local_in")}, "nothing else reaches the gateway")}),
        base("output", Hook::output, 0, false, {rule({eq(Field::meta_oifname, str("br0")), go_to("to_bridge")}, "proxy upstream legs")}),
        chain("to_bridge", {rule({Match{Field::ct_state, Op::any_bit, num(value::ct_established | value::ct_related), {}}, accept()}, "established"),
                            leg({ms, md, Field::tcp_dport}, "out_tcp"), leg({ms, md, Field::udp_dport}, "out_udp"),
                            leg({md, ms, Field::tcp_dport}, "in_tcp"), leg({md, ms, Field::udp_dport}, "in_udp"),
                            leg({ms, md, Field::tcp_dport}, "window_tcp"), leg({md, ms, Field::tcp_dport}, "window_in_tcp"),
                            rule({jump("drop_local_out")}, "default deny")}),
        drop_chain("drop_ipv6_in", "modgate:ipv6:in"),
        drop_chain("drop_local_in", "modgate:local:in"),
        drop_chain("drop_local_out", "modgate:local:out"),
    };
    return t;
}

Table proto_arp() {
    Table t;
    t.family = Family::arp;
    t.name = "modgate";
    t.chains = {
        base("input", Hook::input, 0, false,
             {rule({eq(Field::meta_iifname, str("br0")), eq(Field::arp_operation, num(value::arp_request)), drop()}, "no ARP answers")}),
        base("output", Hook::output, 0, false,
             {rule({eq(Field::meta_oifname, str("br0")), ne(Field::arp_operation, num(value::arp_request)), drop()}, "requests only"),
              rule({eq(Field::meta_oifname, str("br0")), ne(Field::arp_saddr_ip, ip("0.0.0.0")), SetField{Field::arp_saddr_ip, ip("0.0.0.0")}},
                   "hide the management address")}),
    };
    return t;
}

Table proto_extra() {
    Table t;
    t.family = Family::bridge;
    t.name = "modgate_extra";
    t.sets = {set("marks", {KeyType::mark}, true, {{num(5)}, {num(7)}}),
              set("nets", {KeyType::ipv4_addr}, true, {{net("10.0.0.0/8")}, {ip("192.168.1.1")}, {net("192.168.2.0/23")}}),
              set("svc", {KeyType::inet_service, KeyType::inet_proto, KeyType::mark, KeyType::ifname}, false,
                  {{num(104), num(6), num(1), str("gs0")}}),
              set("ifs", {KeyType::ifname}, false, {{str("gs0")}, {str("gh0")}}),
              set("pairs_mark", {KeyType::ipv4_addr, KeyType::mark}, true, {{net("10.1.0.0/16"), num(3)}})};
    t.chains = {base("forward", Hook::forward, -200, false,
                     {rule({eq(Field::arp_htype, num(1)), eq(Field::arp_ptype, num(value::ethertype_ip)), eq(Field::arp_hlen, num(6)),
                            eq(Field::arp_plen, num(4)), eq(Field::arp_operation, num(value::arp_request)), accept()},
                           "merged ARP header"),
                      rule({Match{Field::arp_operation, Op::range, num(1), num(2)}, accept()}, "range"),
                      rule({eq(Field::ip_saddr, net("10.0.0.0/8")), ne(Field::ip_daddr, net("10.16.0.0/12")), accept()}, "prefixes"),
                      rule({eq(Field::meta_iifname, str("gs*")), eq(Field::tcp_dport, num(104)), accept()}, "wildcard"),
                      rule({eq(Field::ether_saddr, mac("00:16:3e:00:00:01")), eq(Field::arp_saddr_ip, ip("10.0.0.1")), accept()}, "merge with dependency"),
                      rule({eq(Field::udp_sport, num(53)), eq(Field::udp_dport, num(53)), accept()}, "ports"),
                      rule({in({Field::meta_mark}, "marks"), in({Field::ip_daddr}, "nets"), accept()}, "interval lookups"),
                      rule({in({Field::tcp_dport, Field::meta_l4proto, Field::meta_mark, Field::meta_iifname}, "svc"), accept()}, "hash concat"),
                      rule({in({Field::ip_saddr, Field::meta_mark}, "pairs_mark"), accept()}, "interval concat with a mark"),
                      rule({in({Field::meta_oifname}, "ifs"), Match{Field::meta_mark, Op::range, num(1), num(5)}, accept()}, "ifname set"),
                      rule({ne(Field::meta_pkttype, num(1)), ne(Field::meta_mark, num(3)), drop()}, "negations")})};
    return t;
}

Ruleset proto_ruleset() {
    Ruleset rs;
    rs.tables = {proto_bridge(), proto_inet(), proto_arp(), proto_extra()};
    return rs;
}

void send_pings(const std::string& dst, int count) {
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) throw std::runtime_error(std::string("raw socket: ") + std::strerror(errno));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    inet_pton(AF_INET, dst.c_str(), &to.sin_addr);
    for (int i = 0; i < count; ++i) {
        unsigned char pkt[64] = {};  // 8-byte header + 56 bytes of data
        auto* h = reinterpret_cast<icmphdr*>(pkt);
        h->type = ICMP_ECHO;
        h->un.echo.id = htons(static_cast<std::uint16_t>(getpid()));
        h->un.echo.sequence = htons(static_cast<std::uint16_t>(i + 1));
        std::uint32_t sum = 0;
        for (std::size_t k = 0; k < sizeof pkt; k += 2) sum += static_cast<std::uint32_t>(pkt[k] << 8 | pkt[k + 1]);
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        h->checksum = htons(static_cast<std::uint16_t>(~sum));
        if (sendto(fd, pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
            close(fd);
            throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
        }
        usleep(20000);
    }
    close(fd);
}

std::vector<std::pair<Family, std::string>> table_names(const Ruleset& rs) {
    std::vector<std::pair<Family, std::string>> out;
    for (const auto& t : rs.tables) out.emplace_back(t.family, t.name);
    return out;
}

std::vector<std::string> compare_with_nft(const Ruleset& rs) {
    std::vector<std::string> problems;
    for (const auto& t : rs.tables) {
        const auto listed = canonical_listing(must(fmt::format("nft list table {} {}", to_string(t.family), t.name)));
        const auto rendered = canonical_listing(render_table(t));
        if (listed != rendered)
            problems.push_back(fmt::format("listing of table {} {} differs from the renderer's text:\n{}", to_string(t.family), t.name,
                                           show_diff(rendered, listed)));
    }
    must(in_oracle("nft flush ruleset"));
    oracle_load(rs);
    const auto ours = canonical_bytecode(must("nft --debug=netlink list ruleset"));
    const auto theirs = canonical_bytecode(must(in_oracle("nft --debug=netlink list ruleset")));
    if (ours != theirs) problems.push_back("bytecode differs from nft -f's:\n" + show_diff(theirs, ours));
    if (ours.empty()) problems.push_back("no bytecode at all");
    std::string args;
    for (const auto& t : rs.tables) args += fmt::format(" {} {}", to_string(t.family), t.name);
    const auto raw_ours = raw_dump(table_names(rs));
    const auto raw_theirs = must(in_oracle(self_exe() + " --raw-dump" + args));
    if (raw_ours != raw_theirs) problems.push_back("byte-exact dump differs from nft -f's:\n" + show_diff(raw_theirs, raw_ours));
    return problems;
}

int run_helper(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "--raw-dump") == 0) {
        std::vector<std::pair<Family, std::string>> tables;
        for (int i = 2; i + 1 < argc; i += 2) {
            const std::string f = argv[i];
            tables.emplace_back(f == "inet" ? Family::inet : f == "bridge" ? Family::bridge : Family::arp, argv[i + 1]);
        }
        std::fputs(raw_dump(tables).c_str(), stdout);
        return 0;
    }
    if (argc == 4 && std::strcmp(argv[1], "--ping") == 0) {
        send_pings(argv[2], std::atoi(argv[3]));
        return 0;
    }
    return -1;
}

std::string self_exe() {
    char buf[4096];
    auto n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

void oracle_load(const Ruleset& rs) {
    char path[] = "/tmp/modgate-oracle-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp");
    close(fd);
    {
        std::ofstream f(path);
        f << render_file(rs);
    }
    auto c = run(in_oracle(fmt::format("nft -f {}", path)), true);
    std::remove(path);
    if (c.status != 0) throw std::runtime_error("nft -f of the rendered ruleset failed: " + c.out);
}

}  // namespace modgate::nfttest
