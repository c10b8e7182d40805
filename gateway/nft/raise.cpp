// Bytecode -> model statements. Every load is followed through the registers to the expression
// that consumes it; the result is checked by lowering it again, which also decides which of the
// protocol matches were nft's implicit dependencies (those are dropped, as `nft list` does).
#include "gateway/nft/raise.hpp"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <bit>
#include <map>

#include "gateway/nft/fields.hpp"
#include "gateway/nft/lower.hpp"

// GCC 12 reports moves of variants holding std::string (ruleset::Value) as maybe-uninitialized, a
// known false positive (GCC bug 105562); keep -Werror builds working without hiding real ones elsewhere.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace modgate::nft {

using namespace ruleset;

namespace {

struct Loaded {
    Source source = Source::meta;
    std::uint32_t key = 0, base = 0, offset = 0, len = 0;
    bool masked = false;
    Bytes mask;
};

struct Cand {
    // Built in place: moving a temporary Stmt trips GCC 12's -Wmaybe-uninitialized on variants.
    template <class T>
    Cand(T&& s, bool implicit, bool dep)
        : stmt(std::in_place_type<std::decay_t<T>>, std::forward<T>(s)), implicit_only(implicit), maybe_dep(dep) {}
    Stmt stmt;
    bool implicit_only = false;  // `meta protocol`: nft writes it, the model cannot
    bool maybe_dep = false;      // a protocol match nft may have added on its own
};

class Parser {
public:
    Parser(const Table& t) : table_(t) {
        if (t.family == Family::arp) nh_ = Proto::arp;
    }

    bool run(const std::vector<Insn>& insns) {
        for (std::size_t i = 0; i < insns.size(); ++i) {
            // nft writes an equality range as `cmp gte` + `cmp lte` on one register.
            if (const auto* lo = std::get_if<insn::Cmp>(&insns[i]); lo && lo->op == NFT_CMP_GTE && i + 1 < insns.size()) {
                const auto* hi = std::get_if<insn::Cmp>(&insns[i + 1]);
                if (hi && hi->op == NFT_CMP_LTE && hi->sreg == lo->sreg) {
                    range(lo->sreg, lo->data, hi->data);
                    ++i;
                    continue;
                }
            }
            std::visit([&](const auto& x) { step(x); }, insns[i]);
        }
        return ok_;
    }

    std::vector<Cand> cands;

private:
    const Table& table_;
    Proto nh_ = Proto::none, th_ = Proto::none;
    std::map<std::uint32_t, Loaded> regs_;
    std::vector<Loaded> pending_;  // loads since the last consuming expression, in order
    std::map<std::uint32_t, Bytes> imm_;
    bool ok_ = true;

    void load(std::uint32_t reg, Loaded l) {
        regs_[reg] = l;
        pending_.push_back(l);
    }
    void step(const insn::Meta& i) { load(i.dreg, Loaded{Source::meta, i.key, 0, 0, 0, false, {}}); }
    void step(const insn::Payload& i) { load(i.dreg, Loaded{Source::payload, 0, i.base, i.offset, i.len, false, {}}); }
    void step(const insn::Ct& i) { load(i.dreg, Loaded{Source::ct, i.key, 0, 0, 4, false, {}}); }
    void step(const insn::Socket& i) { load(i.dreg, Loaded{Source::socket, i.key, 0, 0, 1, false, {}}); }
    void step(const insn::Byteorder&) {}  // re-created by lowering; checked by the round trip
    void step(const insn::Bitwise& i) {
        auto it = regs_.find(i.sreg);
        if (it == regs_.end() || std::any_of(i.xor_.begin(), i.xor_.end(), [](auto c) { return c != 0; })) {
            ok_ = false;
            return;
        }
        Loaded l = it->second;
        l.masked = true;
        l.mask = i.mask;
        regs_[i.dreg] = l;
    }
    void step(const insn::Immediate& i) { imm_[i.dreg] = i.data; }
    void step(const insn::Unknown&) { ok_ = false; }
    void step(const insn::Range&) { ok_ = false; }  // `!= a-b`: the model has no negated range

    template <class T>
    void add(T&& s, bool maybe_dep = false) {
        cands.emplace_back(std::forward<T>(s), false, maybe_dep);
        pending_.clear();
    }

    std::optional<Field> field_at(std::uint32_t base, std::uint32_t offset, std::uint32_t len) const {
        if (base == NFT_PAYLOAD_NETWORK_HEADER && table_.family == Family::bridge) {
            // Unknown network protocol: IPv4 and ARP fields never share an offset, try both.
            if (nh_ != Proto::arp)
                if (auto f = payload_field(base, offset, len, Family::inet)) return f;
            if (nh_ != Proto::ip) return payload_field(base, offset, len, Family::arp);
            return std::nullopt;
        }
        auto f = payload_field(base, offset, len, table_.family);
        if (f && th_ == Proto::udp) {
            if (*f == Field::tcp_sport) return Field::udp_sport;
            if (*f == Field::tcp_dport) return Field::udp_dport;
        }
        return f;
    }

    std::optional<Field> field_of(const Loaded& l) const {
        switch (l.source) {
            case Source::meta: return meta_field(l.key);
            case Source::payload: return field_at(l.base, l.offset, l.len);
            case Source::ct: return l.key == NFT_CT_STATE ? std::optional{Field::ct_state} : std::nullopt;
            case Source::socket:
                if (l.key == NFT_SOCKET_TRANSPARENT) return Field::socket_transparent;
                if (l.key == NFT_SOCKET_WILDCARD) return Field::socket_wildcard;
                return std::nullopt;
        }
        return std::nullopt;
    }

    void note_protocol(Field f, const Value& v) {
        const auto* n = std::get_if<std::uint64_t>(&v);
        if (!n) return;
        if (f == Field::ether_type) nh_ = *n == 0x0800 ? Proto::ip : *n == 0x0806 ? Proto::arp : Proto::unknown;
        if (f == Field::meta_nfproto) nh_ = *n == NFPROTO_IPV4 ? Proto::ip : Proto::unknown;
        if (f == Field::meta_l4proto) th_ = *n == 6 ? Proto::tcp : *n == 17 ? Proto::udp : Proto::unknown;
    }

    void match(Field f, Op op, Value v) {
        const bool dep = op == Op::eq && field_info(f).protocol;
        if (op == Op::eq) note_protocol(f, v);
        add(Match{f, op, std::move(v), {}}, dep);
    }

    void step(const insn::Cmp& c) {
        auto it = regs_.find(c.sreg);
        if (it == regs_.end() || (c.op != NFT_CMP_EQ && c.op != NFT_CMP_NEQ)) {
            ok_ = false;
            return;
        }
        const Loaded l = it->second;
        const Op op = c.op == NFT_CMP_EQ ? Op::eq : Op::ne;
        if (l.source == Source::meta && l.key == NFT_META_PROTOCOL && !l.masked && c.data.size() == 2) {
            const unsigned type = unsigned(c.data[0]) << 8 | c.data[1];
            if (op == Op::eq) nh_ = type == 0x0800 ? Proto::ip : type == 0x0806 ? Proto::arp : Proto::unknown;
            cands.emplace_back(Match{Field::ether_type, op, Value{std::uint64_t{type}}, {}}, true, false);
            pending_.clear();
            return;
        }
        if (l.masked) return masked_cmp(l, c, op);
        if (l.source == Source::payload) return payload_cmp(l, c, op);
        auto f = field_of(l);
        if (!f) {
            ok_ = false;
            return;
        }
        const auto& info = field_info(*f);
        if (info.string && c.data.size() < info.len) {  // `iifname "eth*"`
            match(*f, op, Value{std::string(c.data.begin(), c.data.end()) + "*"});
            return;
        }
        auto v = decode_value(*f, c.data);
        if (!v) {
            ok_ = false;
            return;
        }
        match(*f, op, std::move(*v));
    }

    void masked_cmp(const Loaded& l, const insn::Cmp& c, Op op) {
        auto f = field_of(Loaded{l.source, l.key, l.base, l.offset, l.len, false, {}});
        const bool zero = std::all_of(c.data.begin(), c.data.end(), [](auto b) { return b == 0; });
        if (f == Field::ct_state && op == Op::ne && zero) {
            add(Match{Field::ct_state, Op::any_bit, *decode_value(Field::ct_state, l.mask), {}});
            return;
        }
        if (f && field_info(*f).key_type == KeyType::ipv4_addr && c.data.size() == 4) {
            const auto mask = std::uint32_t(l.mask[0]) << 24 | std::uint32_t(l.mask[1]) << 16 | std::uint32_t(l.mask[2]) << 8 | l.mask[3];
            const int plen = std::popcount(mask);
            if (plen == 32 || mask != (plen == 0 ? 0u : ~0u << (32 - plen))) {
                ok_ = false;
                return;
            }
            auto addr = std::get<Ipv4>(*decode_value(*f, c.data));
            add(Match{*f, op, Value{Cidr{addr, static_cast<std::uint8_t>(plen)}}, {}});
            return;
        }
        ok_ = false;
    }

    void payload_cmp(const Loaded& l, const insn::Cmp& c, Op op) {
        if (c.data.size() != l.len) {
            ok_ = false;
            return;
        }
        // A short load of an address is nft's byte-aligned prefix match.
        for (Field f : {Field::ip_saddr, Field::ip_daddr, Field::arp_saddr_ip, Field::arp_daddr_ip}) {
            const auto& info = field_info(f);
            if (l.len >= info.len || info.base != l.base || info.offset != l.offset) continue;
            if (!field_at(info.base, info.offset, info.len).has_value() || *field_at(info.base, info.offset, info.len) != f) continue;
            Bytes full = c.data;
            full.resize(4, 0);
            add(Match{f, op, Value{Cidr{std::get<Ipv4>(*decode_value(f, full)), static_cast<std::uint8_t>(8 * l.len)}}, {}});
            return;
        }
        // Otherwise split what nft merged into the fields it covers.
        std::uint32_t pos = 0;
        std::vector<std::pair<Field, Value>> parts;
        while (pos < l.len) {
            std::optional<Field> found;
            for (std::uint32_t len = l.len - pos; len > 0 && !found; --len) found = field_at(l.base, l.offset + pos, len);
            if (!found) {
                ok_ = false;
                return;
            }
            const auto n = field_info(*found).len;
            auto v = decode_value(*found, Bytes(c.data.begin() + pos, c.data.begin() + pos + n));
            if (!v) {
                ok_ = false;
                return;
            }
            parts.emplace_back(*found, std::move(*v));
            pos += n;
        }
        if (parts.size() > 1 && op == Op::ne) {  // a merged `!=` tests all fields at once
            ok_ = false;
            return;
        }
        for (auto& [f, v] : parts) match(f, op, std::move(v));
    }

    void range(std::uint32_t reg, Bytes lo, Bytes hi) {
        auto it = regs_.find(reg);
        auto f = it == regs_.end() || it->second.masked ? std::nullopt : field_of(it->second);
        if (!f) {
            ok_ = false;
            return;
        }
        if (field_info(*f).host_int) {  // compared after conversion to network order
            std::reverse(lo.begin(), lo.end());
            std::reverse(hi.begin(), hi.end());
        }
        auto a = decode_value(*f, lo), b = decode_value(*f, hi);
        if (!a || !b) {
            ok_ = false;
            return;
        }
        add(Match{*f, Op::range, std::move(*a), std::move(*b)});
    }

    void step(const insn::Lookup& l) {
        ruleset::Lookup out;
        out.set = l.set;
        out.negate = (l.flags & NFT_LOOKUP_F_INV) != 0;
        for (const auto& p : pending_) {
            auto f = field_of(p);
            if (!f) {
                ok_ = false;
                return;
            }
            out.key.push_back(*f);
        }
        if (out.key.empty()) ok_ = false;
        add(std::move(out));
    }

    void step(const insn::MetaSet& s) {
        auto f = meta_field(s.key);
        auto v = f ? decode_value(*f, imm_[s.sreg]) : std::nullopt;
        if (!v) {
            ok_ = false;
            return;
        }
        add(SetField{*f, std::move(*v)});
    }
    void step(const insn::PayloadSet& s) {
        auto f = field_at(s.base, s.offset, s.len);
        auto v = f ? decode_value(*f, imm_[s.sreg]) : std::nullopt;
        if (!v || s.csum_type || s.csum_offset || s.csum_flags) {
            ok_ = false;
            return;
        }
        add(SetField{*f, std::move(*v)});
    }
    void step(const insn::Tproxy& t) {
        const Bytes& p = imm_[t.port_reg];
        if (t.family != NFPROTO_IPV4 || p.size() != 2) {
            ok_ = false;
            return;
        }
        add(ruleset::Tproxy{static_cast<std::uint16_t>(p[0] << 8 | p[1])});
    }
    void step(const insn::Verdict& v) {
        using K = ruleset::Verdict::Kind;
        switch (v.code) {
            case NF_ACCEPT: add(ruleset::Verdict{K::accept, {}}); return;
            case NF_DROP: add(ruleset::Verdict{K::drop, {}}); return;
            case NFT_RETURN: add(ruleset::Verdict{K::ret, {}}); return;
            case NFT_JUMP: add(ruleset::Verdict{K::jump, v.chain}); return;
            case NFT_GOTO: add(ruleset::Verdict{K::go_to, v.chain}); return;
            default: ok_ = false;
        }
    }
    void step(const insn::Counter& c) { add(ruleset::Counter{c.packets, c.bytes}); }
    void step(const insn::Limit& l) {
        if (l.unit != 1 || l.type != NFT_LIMIT_PKTS || l.flags != 0 || l.rate > UINT32_MAX) ok_ = false;
        add(ruleset::Limit{static_cast<std::uint32_t>(l.rate), l.burst});
    }
    void step(const insn::Log& l) {
        if (!l.has_group) ok_ = false;
        add(ruleset::Log{l.prefix, l.group});
    }
};

bool same_code(const Table& t, const Rule& r, const RuleCode& want) {
    auto got = lower_rule(t, r);
    return got && *got == want;
}

}  // namespace

Raised raise_rule(const Table& table, const RuleCode& code) {
    Parser p(table);
    const bool parsed = p.run(code.insns);
    Raised out;
    out.rule.comment = comment_from_userdata(code.userdata);
    std::vector<Cand> cands;
    for (auto& c : p.cands)
        if (!c.implicit_only) cands.push_back(std::move(c));
    std::vector<std::size_t> deps;
    for (std::size_t i = 0; i < cands.size(); ++i)
        if (cands[i].maybe_dep) deps.push_back(i);
    auto build = [&](std::uint32_t drop_mask) {
        Rule r;
        r.comment = out.rule.comment;
        for (std::size_t i = 0, d = 0; i < cands.size(); ++i) {
            if (d < deps.size() && deps[d] == i) {
                if (drop_mask & (1u << d++)) continue;
            }
            r.stmts.push_back(cands[i].stmt);
        }
        return r;
    };
    if (parsed && deps.size() <= 10) {
        // Drop as many protocol matches as possible: the listing form, which is the model's.
        std::vector<std::uint32_t> masks;
        for (std::uint32_t m = 0; m < (1u << deps.size()); ++m) masks.push_back(m);
        std::stable_sort(masks.begin(), masks.end(), [](auto a, auto b) { return std::popcount(a) > std::popcount(b); });
        for (auto m : masks) {
            Rule r = build(m);
            if (same_code(table, r, code)) {
                out.rule = std::move(r);
                out.exact = true;
                return out;
            }
        }
    }
    out.rule = build(0);
    return out;
}

}  // namespace modgate::nft
