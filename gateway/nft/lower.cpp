// Model rule -> bytecode, following nft 1.0.6: evaluate.c inserts a dependency match right before
// the statement that needs it (payload_gen_dependency), rule.c merges adjacent payload compares
// (stmt_reduce/payload_do_merge), netlink_linearize.c allocates registers and emits expressions.
#include "gateway/nft/lower.hpp"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "gateway/nft/fields.hpp"
#include "policy/render.hpp"

namespace modgate::nft {

using namespace ruleset;

namespace {

// ---- evaluated statements (nft's rule after evaluation, before linearization) ----------------

struct Load {
    FieldInfo info;  // payload merges widen info.len
};

struct Rel {
    enum class Kind : std::uint8_t { cmp, prefix, range, flag, lookup } kind = Kind::cmp;
    Load left;
    bool negate = false;
    Bytes value, high;          // cmp/prefix/flag value; range bounds
    std::uint8_t prefix_len = 0;
    std::vector<Load> keys;     // lookup
    std::vector<bool> hton;     // lookup: per key byte-order conversion
    std::string set;
};

// Anything but a relational expression: it ends a payload-merge window (nft's STMT_EXPRESSION test).
struct Other {
    std::vector<Insn> insns;
};

using EStmt = std::variant<Rel, Other>;

// nft's proto_ctx: which protocol each header is known to be.
struct ProtoCtx {
    std::array<Proto, 3> at{Proto::none, Proto::none, Proto::none};  // LL, NH, TH
};

std::string field_name(Field f) { return to_string(f); }

Error conflict(Proto have, Proto want) {
    static constexpr const char* names[] = {"none", "inet", "ether", "netdev", "ip", "ip6", "arp", "tcp", "udp", "unknown"};
    return model_error(fmt::format("conflicting protocols specified: {} vs. {}", names[static_cast<int>(have)],
                                   names[static_cast<int>(want)]));
}

// The value nft matches in `lower` to select `upper` (proto_find_num), or -1.
int proto_num(Proto lower, Proto upper) {
    switch (lower) {
        case Proto::eth:
        case Proto::netdev:
            return upper == Proto::ip ? 0x0800 : upper == Proto::arp ? 0x0806 : upper == Proto::ip6 ? 0x86dd : -1;
        case Proto::inet: return upper == Proto::ip ? NFPROTO_IPV4 : upper == Proto::ip6 ? NFPROTO_IPV6 : -1;
        case Proto::ip:
        case Proto::ip6: return upper == Proto::tcp ? 6 : upper == Proto::udp ? 17 : -1;
        default: return -1;
    }
}

Proto proto_of_ethertype(std::uint64_t v) {
    return v == 0x0800 ? Proto::ip : v == 0x0806 ? Proto::arp : v == 0x86dd ? Proto::ip6 : Proto::unknown;
}
Proto proto_of_l4(std::uint64_t v) { return v == 6 ? Proto::tcp : v == 17 ? Proto::udp : Proto::unknown; }

Rel dep_match(FieldInfo info, std::uint64_t value) {
    Rel r;
    r.left.info = info;
    Bytes b;
    for (std::uint32_t i = 0; i < info.len; ++i) {
        auto shift = info.host_int ? 8 * i : 8 * (info.len - 1 - i);
        b.push_back(static_cast<std::uint8_t>(value >> shift));
    }
    r.value = std::move(b);
    return r;
}

class Evaluator {
public:
    Evaluator(const Table& t) : table_(t) {
        if (t.family == Family::inet) ctx_.at[0] = Proto::inet;
        if (t.family == Family::bridge) ctx_.at[0] = Proto::eth;
        if (t.family == Family::arp) ctx_.at[1] = Proto::arp;
    }

    Result<std::vector<EStmt>> run(const Rule& rule) {
        for (std::size_t i = 0; i < rule.stmts.size(); ++i) {
            auto r = std::visit([&](const auto& s) { return stmt(s); }, rule.stmts[i]);
            if (!r) {
                r.error().message = fmt::format("statement {} ({}): {}", i + 1, render_stmt(table_.family, rule.stmts[i]),
                                                r.error().message);
                return std::unexpected(r.error());
            }
        }
        return std::move(out_);
    }

private:
    const Table& table_;
    ProtoCtx ctx_;
    std::vector<EStmt> out_;

    // nft's __expr_evaluate_payload + payload_gen_dependency for one payload field.
    Result<void> need(const FieldInfo& f) {
        if (f.source != Source::payload) return {};
        const std::size_t base = f.base;
        const Proto have = ctx_.at[base];
        if (have == f.proto) return {};
        if (have != Proto::none) {
            // Same base, other protocol: nft resolves only the inet/netdev link-layer cases,
            // which the model never needs; everything else is its "conflicting protocols" error.
            return std::unexpected(conflict(have, f.proto));
        }
        if (table_.family == Family::arp && base == NFT_PAYLOAD_LL_HEADER)
            return std::unexpected(model_error("link-layer fields are not supported in the arp family"));
        Proto lower = base == 0 ? Proto::none : ctx_.at[base - 1];
        if (lower == Proto::none) {
            if (base == NFT_PAYLOAD_TRANSPORT_HEADER) lower = Proto::ip;  // proto_inet_service: meta l4proto
            else return std::unexpected(model_error("no link-layer protocol for this family"));
        }
        // nft prefers skb->protocol (meta protocol) over the ether type for IP in bridges.
        if (table_.family == Family::bridge && lower == Proto::eth && (f.proto == Proto::ip || f.proto == Proto::ip6))
            lower = Proto::netdev;
        const int num = proto_num(lower, f.proto);
        if (num < 0) return std::unexpected(conflict(lower, f.proto));
        FieldInfo dep;
        switch (lower) {
            case Proto::eth: dep = field_info(Field::ether_type); break;
            case Proto::netdev:
                dep = field_info(Field::ether_type);
                dep.source = Source::meta;
                dep.key = NFT_META_PROTOCOL;
                break;
            case Proto::inet: dep = field_info(Field::meta_nfproto); break;
            default: dep = field_info(Field::meta_l4proto); break;
        }
        out_.emplace_back(std::in_place_type<Rel>, dep_match(dep, static_cast<std::uint64_t>(num)));
        ctx_.at[base] = f.proto;
        return {};
    }

    // relational_expr_pctx_update for an explicit equality on a protocol field.
    void update(Field f, const Value& v) {
        const auto* n = std::get_if<std::uint64_t>(&v);
        if (!n) return;
        switch (f) {
            case Field::ether_type:
                if (table_.family == Family::bridge) ctx_.at[1] = proto_of_ethertype(*n);
                break;
            case Field::meta_nfproto:
                ctx_.at[1] = *n == NFPROTO_IPV4 ? Proto::ip : *n == NFPROTO_IPV6 ? Proto::ip6 : Proto::unknown;
                break;
            case Field::meta_l4proto: ctx_.at[2] = proto_of_l4(*n); break;
            default: break;
        }
    }

    Result<void> stmt(const Match& m) {
        const FieldInfo& f = field_info(m.field);
        if (m.field == Field::meta_nfproto && table_.family != Family::inet)
            return std::unexpected(model_error("meta nfproto is only useful in the inet family"));
        if (auto r = need(f); !r) return r;
        Rel rel;
        rel.left.info = f;
        rel.negate = m.op == Op::ne;
        const auto* cidr = std::get_if<Cidr>(&m.value);
        if (m.op == Op::range) {
            if (f.string || f.bitmask) return std::unexpected(model_error("a range needs an integer field"));
            auto lo = encode_value(m.field, m.value);
            auto hi = encode_value(m.field, m.high);
            if (!lo) return std::unexpected(lo.error());
            if (!hi) return std::unexpected(hi.error());
            // Ranges compare in network byte order: nft converts host-endian operands.
            if (f.host_int) {
                std::reverse(lo->begin(), lo->end());
                std::reverse(hi->begin(), hi->end());
            }
            rel.kind = Rel::Kind::range;
            rel.value = std::move(*lo);
            rel.high = std::move(*hi);
        } else if (cidr && !cidr->is_host()) {
            if (m.op == Op::any_bit) return std::unexpected(model_error("a prefix cannot be a bit test"));
            auto v = encode_value(m.field, m.value);
            if (!v) return std::unexpected(v.error());
            rel.kind = Rel::Kind::prefix;
            rel.prefix_len = cidr->len;
            rel.value = std::move(*v);
        } else if (f.string && std::holds_alternative<std::string>(m.value) &&
                   std::get<std::string>(m.value).ends_with('*')) {
            // `iifname "eth*"`: nft compares the prefix before the star.
            const auto& s = std::get<std::string>(m.value);
            auto v = encode_value(m.field, Value{s.substr(0, s.size() - 1)});
            if (!v) return std::unexpected(v.error());
            rel.kind = Rel::Kind::prefix;
            rel.prefix_len = static_cast<std::uint8_t>(8 * (s.size() - 1));
            v->resize(s.size() - 1);
            rel.value = std::move(*v);
        } else {
            auto v = encode_value(m.field, m.value);
            if (!v) return std::unexpected(v.error());
            rel.value = std::move(*v);
            // `ct state new` (and any_bit) is nft's implicit bitmask test; `!=` is a plain compare.
            if (f.bitmask && m.op != Op::ne) rel.kind = Rel::Kind::flag;
            else if (m.op == Op::any_bit && !f.bitmask) rel.kind = Rel::Kind::cmp;
        }
        if (m.op == Op::eq && rel.kind == Rel::Kind::cmp) update(m.field, m.value);
        out_.emplace_back(std::in_place_type<Rel>, std::move(rel));
        return {};
    }

    Result<void> stmt(const ruleset::Lookup& l) {
        const Set* set = table_.find_set(l.set);
        if (!set) return std::unexpected(model_error(fmt::format("no set named {} in this table", l.set)));
        if (set->key.size() != l.key.size())
            return std::unexpected(model_error(fmt::format("key has {} fields, set {} has {}", l.key.size(), l.set, set->key.size())));
        Rel rel;
        rel.kind = Rel::Kind::lookup;
        rel.negate = l.negate;
        rel.set = l.set;
        for (std::size_t i = 0; i < l.key.size(); ++i) {
            const FieldInfo& f = field_info(l.key[i]);
            if (f.key_type != set->key[i])
                return std::unexpected(model_error(fmt::format("{} does not match the set's {} key", field_name(l.key[i]),
                                                               to_string(set->key[i]))));
            if (l.key[i] == Field::meta_nfproto && table_.family != Family::inet)
                return std::unexpected(model_error("meta nfproto is only useful in the inet family"));
            if (auto r = need(f); !r) return r;
            rel.keys.push_back(Load{f});
            // Interval sets hold big-endian data: nft converts host-endian integers, always in a
            // concatenation, and only above one byte for a single key (byteorder_conversion).
            const bool concat = l.key.size() > 1;
            rel.hton.push_back(set->interval && f.host_int && !f.string && (concat || f.len >= 2));
        }
        out_.emplace_back(std::in_place_type<Rel>, std::move(rel));
        return {};
    }

    Result<void> stmt(const ruleset::Counter&) {
        out_.emplace_back(std::in_place_type<Other>, Other{{insn::Counter{}}});
        return {};
    }

    Result<void> stmt(const ruleset::Limit& l) {
        out_.emplace_back(std::in_place_type<Other>, Other{{insn::Limit{l.rate, 1, l.burst, NFT_LIMIT_PKTS, 0}}});
        return {};
    }

    Result<void> stmt(const ruleset::Log& l) {
        out_.emplace_back(std::in_place_type<Other>, Other{{insn::Log{l.prefix, l.group, true}}});
        return {};
    }

    Result<void> stmt(const SetField& s) {
        const FieldInfo& f = field_info(s.field);
        auto v = encode_value(s.field, s.value);
        if (!v) return std::unexpected(v.error());
        if (f.source == Source::meta && (s.field == Field::meta_mark || s.field == Field::meta_pkttype)) {
            out_.emplace_back(std::in_place_type<Other>, Other{{insn::Immediate{NFT_REG_1, std::move(*v)}, insn::MetaSet{f.key, NFT_REG_1}}});
            return {};
        }
        // Checksummed headers (ip, tcp, udp) would need nft's checksum offsets; the model only
        // rewrites link-layer and ARP fields.
        if (f.source != Source::payload || f.proto == Proto::ip || f.proto == Proto::tcp || f.proto == Proto::udp ||
            s.field == Field::ether_type)
            return std::unexpected(model_error(fmt::format("setting {} is not supported", field_name(s.field))));
        if (auto r = need(f); !r) return r;
        out_.emplace_back(std::in_place_type<Other>, Other{{insn::Immediate{NFT_REG_1, std::move(*v)},
                              insn::PayloadSet{NFT_REG_1, f.base, f.offset, f.len, 0, 0, 0}}});
        return {};
    }

    Result<void> stmt(const ruleset::Tproxy& t) {
        if (table_.family != Family::inet) return std::unexpected(model_error("tproxy is only supported for IPv4/IPv6/INET"));
        if (ctx_.at[2] == Proto::none)
            return std::unexpected(model_error("Transparent proxy support requires transport protocol match"));
        if (ctx_.at[1] == Proto::ip6) return std::unexpected(conflict(Proto::ip6, Proto::ip));
        Bytes port{static_cast<std::uint8_t>(t.port >> 8), static_cast<std::uint8_t>(t.port)};
        out_.emplace_back(std::in_place_type<Other>, Other{{insn::Immediate{NFT_REG_1, std::move(port)}, insn::Tproxy{NFPROTO_IPV4, NFT_REG_1}}});
        return {};
    }

    Result<void> stmt(const ruleset::Verdict& v) {
        insn::Verdict out;
        switch (v.kind) {
            case ruleset::Verdict::Kind::accept: out.code = NF_ACCEPT; break;
            case ruleset::Verdict::Kind::drop: out.code = NF_DROP; break;
            case ruleset::Verdict::Kind::ret: out.code = NFT_RETURN; break;
            case ruleset::Verdict::Kind::jump: out.code = NFT_JUMP; break;
            case ruleset::Verdict::Kind::go_to: out.code = NFT_GOTO; break;
        }
        if (v.kind == ruleset::Verdict::Kind::jump || v.kind == ruleset::Verdict::Kind::go_to) {
            if (v.chain.empty()) return std::unexpected(model_error("jump without a chain"));
            out.chain = v.chain;
        }
        out_.emplace_back(std::in_place_type<Other>, Other{{out}});
        return {};
    }
};

// ---- stmt_reduce: merge adjacent payload compares -------------------------------------------

bool mergeable(const EStmt& s) {
    const auto* r = std::get_if<Rel>(&s);
    return r && r->kind == Rel::Kind::cmp && r->left.info.source == Source::payload;
}

// payload_can_merge: byte-aligned neighbours whose union still fits one 16-byte register, and
// only where merging beats the kernel's fast path for loads up to four bytes.
bool can_merge(const FieldInfo& a, const FieldInfo& b) {
    if (a.base != b.base || a.offset + a.len != b.offset) return false;
    const auto total = a.len + b.len;
    if (total > NFT_REG_SIZE) return false;
    if (total <= NFT_REG32_SIZE) return true;
    if (a.base == NFT_PAYLOAD_LL_HEADER) return true;
    return a.len > NFT_REG32_SIZE || b.len > NFT_REG32_SIZE;
}

void merge_window(std::vector<EStmt>& stmts, std::vector<std::size_t> idx, std::vector<bool>& dead) {
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t x, std::size_t y) {
        const auto& a = std::get<Rel>(stmts[x]).left.info;
        const auto& b = std::get<Rel>(stmts[y]).left.info;
        return a.base != b.base ? a.base < b.base : a.offset < b.offset;
    });
    std::size_t last = idx[0];
    for (std::size_t i = 1; i < idx.size(); ++i) {
        std::size_t cur = idx[i];
        auto& l = std::get<Rel>(stmts[last]);
        auto& t = std::get<Rel>(stmts[cur]);
        if (!can_merge(l.left.info, t.left.info) || l.negate != t.negate) {
            last = cur;
            continue;
        }
        FieldInfo joined = l.left.info;
        joined.len += t.left.info.len;
        Bytes value = l.value;
        value.insert(value.end(), t.value.begin(), t.value.end());
        // A merge keeps the statement of the protocol field (`ether type`), so a higher-layer
        // match never runs before its dependency (the swap in nft's payload_do_merge).
        std::size_t keep = last, drop = cur;
        if (t.left.info.protocol) {
            keep = cur;
            drop = last;
            joined.protocol = true;
        } else {
            joined.protocol = l.left.info.protocol;
        }
        auto& k = std::get<Rel>(stmts[keep]);
        k.left.info = joined;
        k.value = std::move(value);
        dead[drop] = true;
        last = keep;
    }
}

std::vector<EStmt> reduce(std::vector<EStmt> stmts) {
    std::vector<bool> dead(stmts.size(), false);
    std::vector<std::size_t> window;
    for (std::size_t i = 0; i < stmts.size(); ++i) {
        if (std::holds_alternative<Other>(stmts[i])) {
            if (window.size() >= 2) merge_window(stmts, window, dead);
            window.clear();
            continue;
        }
        if (mergeable(stmts[i])) window.push_back(i);
    }
    if (window.size() >= 2) merge_window(stmts, window, dead);
    std::vector<EStmt> out;
    for (std::size_t i = 0; i < stmts.size(); ++i)
        if (!dead[i]) out.push_back(std::move(stmts[i]));
    return out;
}

// ---- netlink_linearize ------------------------------------------------------------------------

// nft's register numbering: 32-bit word offset w from NFT_REG_1, printed as a 16-byte register
// when aligned (netlink_put_register).
std::uint32_t wire_reg(std::uint32_t word) { return word % 4 == 0 ? NFT_REG_1 + word / 4 : NFT_REG32_00 + word; }

void emit_load(std::vector<Insn>& out, const FieldInfo& f, std::uint32_t reg, std::uint32_t len) {
    switch (f.source) {
        case Source::meta: out.push_back(insn::Meta{f.key, reg}); break;
        case Source::payload: out.push_back(insn::Payload{f.base, f.offset, len, reg}); break;
        case Source::ct: out.push_back(insn::Ct{f.key, reg}); break;
        case Source::socket: out.push_back(insn::Socket{f.key, 0, reg}); break;
    }
}

void emit_hton(std::vector<Insn>& out, std::uint32_t reg, std::uint32_t len) {
    const std::uint32_t bits = 8 * len;
    const std::uint32_t size = bits % 64 == 0 ? 8 : bits % 32 == 0 ? 4 : 2;
    out.push_back(insn::Byteorder{reg, reg, NFT_BYTEORDER_HTON, len, size});
}

void emit(std::vector<Insn>& out, const Rel& r) {
    const auto& f = r.left.info;
    const std::uint32_t cmp_op = r.negate ? NFT_CMP_NEQ : NFT_CMP_EQ;
    switch (r.kind) {
        case Rel::Kind::cmp:
            emit_load(out, f, NFT_REG_1, f.len);
            out.push_back(insn::Cmp{NFT_REG_1, cmp_op, r.value});
            return;
        case Rel::Kind::prefix: {
            // Big-endian prefixes on byte boundaries load fewer bytes; strings compare the prefix.
            if (f.string || (r.prefix_len % 8 == 0 && r.prefix_len > 0)) {
                const std::uint32_t n = r.prefix_len / 8;
                emit_load(out, f, NFT_REG_1, n);
                out.push_back(insn::Cmp{NFT_REG_1, cmp_op, Bytes(r.value.begin(), r.value.begin() + n)});
                return;
            }
            emit_load(out, f, NFT_REG_1, f.len);
            Bytes mask(f.len, 0);
            for (std::uint32_t bit = 0; bit < r.prefix_len; ++bit) mask[bit / 8] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
            out.push_back(insn::Bitwise{NFT_REG_1, NFT_REG_1, f.len, mask, Bytes(f.len, 0)});
            out.push_back(insn::Cmp{NFT_REG_1, cmp_op, r.value});
            return;
        }
        case Rel::Kind::range:
            emit_load(out, f, NFT_REG_1, f.len);
            if (f.host_int && f.len >= 2) emit_hton(out, NFT_REG_1, f.len);
            if (r.negate) {
                out.push_back(insn::Range{NFT_REG_1, NFT_RANGE_NEQ, r.value, r.high});
            } else {
                out.push_back(insn::Cmp{NFT_REG_1, NFT_CMP_GTE, r.value});
                out.push_back(insn::Cmp{NFT_REG_1, NFT_CMP_LTE, r.high});
            }
            return;
        case Rel::Kind::flag:
            emit_load(out, f, NFT_REG_1, f.len);
            out.push_back(insn::Bitwise{NFT_REG_1, NFT_REG_1, f.len, r.value, Bytes(f.len, 0)});
            out.push_back(insn::Cmp{NFT_REG_1, NFT_CMP_NEQ, Bytes(f.len, 0)});
            return;
        case Rel::Kind::lookup: {
            std::uint32_t word = 0;
            for (std::size_t i = 0; i < r.keys.size(); ++i) {
                const auto& k = r.keys[i].info;
                const auto reg = wire_reg(word);
                emit_load(out, k, reg, k.len);
                if (r.hton[i]) emit_hton(out, reg, k.len);
                word += padded(k.len) / 4;
            }
            out.push_back(insn::Lookup{NFT_REG_1, r.set, r.negate ? static_cast<std::uint32_t>(NFT_LOOKUP_F_INV) : 0u});
            return;
        }
    }
}

}  // namespace

Result<RuleCode> lower_rule(const Table& table, const Rule& rule) {
    Evaluator ev(table);
    auto stmts = ev.run(rule);
    if (!stmts) return std::unexpected(stmts.error());
    RuleCode code;
    for (const auto& s : reduce(std::move(*stmts))) {
        if (const auto* r = std::get_if<Rel>(&s)) emit(code.insns, *r);
        else for (const auto& i : std::get<Other>(s).insns) code.insns.push_back(i);
    }
    code.userdata = rule_userdata(rule.comment);
    return code;
}

// nftnl_udata TLVs: NFTNL_UDATA_RULE_COMMENT (0), length, the string with its NUL.
Bytes rule_userdata(const std::string& comment) {
    if (comment.empty()) return {};
    const std::size_t n = std::min<std::size_t>(comment.size(), 254);
    Bytes out{0, static_cast<std::uint8_t>(n + 1)};
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(comment[i]));
    out.push_back(0);
    return out;
}

std::string comment_from_userdata(const Bytes& udata) {
    for (std::size_t i = 0; i + 2 <= udata.size();) {
        const std::uint8_t type = udata[i], len = udata[i + 1];
        if (i + 2 + len > udata.size()) break;
        if (type == 0 && len > 0) {
            std::string s(udata.begin() + static_cast<std::ptrdiff_t>(i) + 2, udata.begin() + static_cast<std::ptrdiff_t>(i) + 2 + len);
            if (auto z = s.find('\0'); z != std::string::npos) s.resize(z);
            return s;
        }
        i += 2 + len;
    }
    return {};
}

}  // namespace modgate::nft
