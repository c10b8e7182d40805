// Renders the ruleset model as nft text, matching `nft list` output token for token.
#include "policy/render.hpp"

#include <fmt/format.h>

namespace modgate::ruleset {
namespace {

std::uint64_t num(const Value& v) {
    if (const auto* n = std::get_if<std::uint64_t>(&v)) return *n;
    return 0;
}

const char* symbol(Field f, std::uint64_t v) {
    switch (f) {
        case Field::meta_nfproto:
            return v == value::nfproto_ipv4 ? "ipv4" : v == value::nfproto_ipv6 ? "ipv6" : nullptr;
        case Field::meta_l4proto:
            return v == value::l4_tcp ? "tcp" : v == value::l4_udp ? "udp" : v == value::l4_icmp ? "icmp" : nullptr;
        case Field::ether_type:
            return v == value::ethertype_ip ? "ip" : v == value::ethertype_arp ? "arp"
                 : v == value::ethertype_ip6 ? "ip6" : nullptr;
        case Field::arp_ptype: return v == value::ethertype_ip ? "ip" : nullptr;
        case Field::arp_operation:
            return v == value::arp_request ? "request" : v == value::arp_reply ? "reply" : nullptr;
        case Field::meta_pkttype:
            return v == 0 ? "host" : v == 1 ? "broadcast" : v == 2 ? "multicast" : v == 3 ? "other" : nullptr;
        default: return nullptr;
    }
}

std::string ct_state_names(std::uint64_t bits) {
    static constexpr std::pair<std::uint64_t, const char*> names[] = {
        {value::ct_invalid, "invalid"}, {value::ct_established, "established"},
        {value::ct_related, "related"}, {value::ct_new, "new"}, {64, "untracked"}};
    std::string out;
    for (auto [bit, name] : names) {
        if (!(bits & bit)) continue;
        if (!out.empty()) out += ',';
        out += name;
    }
    return out;
}

std::string address(const Value& v) {
    if (const auto* a = std::get_if<Ipv4>(&v)) return a->str();
    if (const auto* c = std::get_if<Cidr>(&v)) return c->str();
    if (const auto* m = std::get_if<Mac>(&v)) return m->str();
    if (const auto* s = std::get_if<std::string>(&v)) return fmt::format("\"{}\"", *s);
    return std::to_string(num(v));
}

}  // namespace

std::string render_value(Field f, const Value& v) {
    if (!std::holds_alternative<std::uint64_t>(v)) return address(v);
    auto n = num(v);
    if (f == Field::meta_mark) return fmt::format("0x{:08x}", n);
    if (f == Field::ct_state) return ct_state_names(n);
    if (const char* s = symbol(f, n)) return s;
    if (f == Field::ether_type) return fmt::format("0x{:04x}", n);
    return std::to_string(n);
}

std::string render_key_value(KeyType k, const Value& v) {
    switch (k) {
        case KeyType::inet_proto: return render_value(Field::meta_l4proto, v);
        case KeyType::mark: return render_value(Field::meta_mark, v);
        default: return address(v);
    }
}

std::string render_duration_ms(std::uint64_t ms) {
    if (ms == 0) return "0s";
    std::string out;
    const std::pair<std::uint64_t, const char*> units[] = {
        {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    for (auto [size, name] : units) {
        if (ms >= size) {
            out += fmt::format("{}{}", ms / size, name);
            ms %= size;
        }
    }
    return out;
}

std::string render_priority(Family fam, std::int32_t prio) {
    struct Named { std::int32_t value; const char* name; };
    static constexpr Named inet_names[] = {{-300, "raw"}, {-150, "mangle"}, {-100, "dstnat"},
                                           {0, "filter"}, {50, "security"}, {100, "srcnat"}};
    static constexpr Named bridge_names[] = {{-300, "dstnat"}, {-200, "filter"}, {100, "out"}, {300, "srcnat"}};
    static constexpr Named arp_names[] = {{0, "filter"}};
    auto pick = [&](auto& table) -> std::string {
        for (auto [v, n] : table)
            if (v == prio) return n;
        // nft prints offsets from the nearest named priority? It prints plain numbers otherwise.
        return std::to_string(prio);
    };
    switch (fam) {
        case Family::inet: return pick(inet_names);
        case Family::bridge: return pick(bridge_names);
        case Family::arp: return pick(arp_names);
    }
    return std::to_string(prio);
}

std::string render_stmt(Family, const Stmt& s) {
    struct V {
        std::string operator()(const Match& m) const {
            const char* f = to_string(m.field);
            switch (m.op) {
                case Op::eq: return fmt::format("{} {}", f, render_value(m.field, m.value));
                case Op::ne: return fmt::format("{} != {}", f, render_value(m.field, m.value));
                case Op::range:
                    // nft prints range bounds numerically, except marks, which are always hex.
                    if (m.field == Field::meta_mark)
                        return fmt::format("{} {}-{}", f, render_value(m.field, m.value), render_value(m.field, m.high));
                    return fmt::format("{} {}-{}", f, num(m.value), num(m.high));
                case Op::any_bit: return fmt::format("{} {}", f, render_value(m.field, m.value));
            }
            return "?";
        }
        std::string operator()(const Lookup& l) const {
            std::string out;
            for (std::size_t i = 0; i < l.key.size(); ++i) {
                if (i) out += " . ";
                out += to_string(l.key[i]);
            }
            return fmt::format("{} {}@{}", out, l.negate ? "!= " : "", l.set);
        }
        // As `nft list` prints it: the compiler's counters start at zero, read-back fills them.
        std::string operator()(const Counter& c) const {
            return fmt::format("counter packets {} bytes {}", c.packets, c.bytes);
        }
        std::string operator()(const Limit& l) const {
            if (l.burst == 5) return fmt::format("limit rate {}/second", l.rate);
            return fmt::format("limit rate {}/second burst {} packets", l.rate, l.burst);
        }
        std::string operator()(const Log& l) const {
            return fmt::format("log prefix \"{}\" group {}", l.prefix, l.group);
        }
        std::string operator()(const SetField& s) const {
            return fmt::format("{} set {}", to_string(s.field), render_value(s.field, s.value));
        }
        std::string operator()(const Tproxy& t) const { return fmt::format("tproxy ip to :{}", t.port); }
        std::string operator()(const Verdict& v) const {
            switch (v.kind) {
                case Verdict::Kind::accept: return "accept";
                case Verdict::Kind::drop: return "drop";
                case Verdict::Kind::ret: return "return";
                case Verdict::Kind::jump: return "jump " + v.chain;
                case Verdict::Kind::go_to: return "goto " + v.chain;
            }
            return "?";
        }
    };
    return std::visit(V{}, s);
}

std::string render_rule(Family fam, const Rule& r) {
    std::string out;
    for (const auto& s : r.stmts) {
        if (!out.empty()) out += ' ';
        out += render_stmt(fam, s);
    }
    if (!r.comment.empty()) out += fmt::format(" comment \"{}\"", r.comment);
    return out;
}

namespace {

std::string render_element(const Set& s, const Element& e) {
    std::string out;
    for (std::size_t i = 0; i < e.key.size() && i < s.key.size(); ++i) {
        if (i) out += " . ";
        out += render_key_value(s.key[i], e.key[i]);
    }
    if (e.timeout_ms) out += " timeout " + render_duration_ms(e.timeout_ms);
    if (e.expires_ms) out += " expires " + render_duration_ms(e.expires_ms);
    if (!e.comment.empty()) out += fmt::format(" comment \"{}\"", e.comment);
    return out;
}

void render_set(std::string& out, const Set& s) {
    out += fmt::format("\tset {} {{\n\t\ttype ", s.name);
    for (std::size_t i = 0; i < s.key.size(); ++i) {
        if (i) out += " . ";
        out += to_string(s.key[i]);
    }
    out += '\n';
    if (s.interval || s.timeout) {
        out += "\t\tflags ";
        if (s.interval) out += "interval";
        if (s.interval && s.timeout) out += ',';
        if (s.timeout) out += "timeout";
        out += '\n';
    }
    if (!s.elements.empty()) {
        out += "\t\telements = { ";
        for (std::size_t i = 0; i < s.elements.size(); ++i) {
            if (i) out += ",\n\t\t\t     ";
            out += render_element(s, s.elements[i]);
        }
        out += " }\n";
    }
    out += "\t}\n";
}

void render_chain(std::string& out, Family fam, const Chain& c) {
    out += fmt::format("\tchain {} {{\n", c.name);
    if (c.base)
        out += fmt::format("\t\ttype filter hook {} priority {}; policy {};\n", to_string(c.base->hook),
                           render_priority(fam, c.base->priority), c.base->policy_drop ? "drop" : "accept");
    for (const auto& r : c.rules) out += "\t\t" + render_rule(fam, r) + '\n';
    out += "\t}\n";
}

}  // namespace

std::string render_table(const Table& t) {
    std::string out = fmt::format("table {} {} {{\n", to_string(t.family), t.name);
    bool first = true;
    for (const auto& s : t.sets) {
        if (!first) out += '\n';
        first = false;
        render_set(out, s);
    }
    for (const auto& c : t.chains) {
        if (!first) out += '\n';
        first = false;
        render_chain(out, t.family, c);
    }
    out += "}\n";
    return out;
}

std::string render_file(const Ruleset& rs) {
    std::string out;
    // Replace our tables in one transaction without touching anyone else's: declare, flush the
    // rules, empty the sets the compiler owns (dynamic sets keep their elements), redefine.
    // The preamble is one command per line, so tools can tell it from the definitions.
    for (const auto& t : rs.tables) {
        const char* fam = to_string(t.family);
        out += fmt::format("table {} {} {{}}\nflush table {} {}\n", fam, t.name, fam, t.name);
        for (const auto& s : t.sets) {
            if (s.dynamic) continue;
            std::string type;
            for (std::size_t i = 0; i < s.key.size(); ++i) type += fmt::format("{}{}", i ? " . " : "", to_string(s.key[i]));
            out += fmt::format("add set {} {} {} {{ type {};{} }}\nflush set {} {} {}\n", fam, t.name, s.name, type,
                               s.interval ? " flags interval;" : "", fam, t.name, s.name);
        }
    }
    for (const auto& t : rs.tables) out += render_table(t);
    return out;
}

}  // namespace modgate::ruleset
