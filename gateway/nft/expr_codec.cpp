// Plain bytecode <-> libnftnl expressions. Attributes are set exactly when nft 1.0.6 sets them
// (netlink_linearize.c), so the messages we send carry what nft's would.
#include "gateway/nft/expr_codec.hpp"

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include <cstring>
#include <memory>

namespace modgate::nft {
namespace {

struct ExprFree {
    void operator()(nftnl_expr* e) const { nftnl_expr_free(e); }
};
using ExprPtr = std::unique_ptr<nftnl_expr, ExprFree>;

ExprPtr make(const char* name) { return ExprPtr(nftnl_expr_alloc(name)); }

void set_bytes(nftnl_expr* e, std::uint16_t attr, const Bytes& b) { nftnl_expr_set(e, attr, b.data(), static_cast<std::uint32_t>(b.size())); }

struct Build {
    ExprPtr operator()(const insn::Meta& i) const {
        auto e = make("meta");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_DREG, i.dreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_KEY, i.key);
        return e;
    }
    ExprPtr operator()(const insn::Payload& i) const {
        auto e = make("payload");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_DREG, i.dreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_BASE, i.base);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_OFFSET, i.offset);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_LEN, i.len);
        return e;
    }
    ExprPtr operator()(const insn::Ct& i) const {
        auto e = make("ct");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CT_DREG, i.dreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CT_KEY, i.key);
        return e;
    }
    ExprPtr operator()(const insn::Socket& i) const {
        auto e = make("socket");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_SOCKET_DREG, i.dreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_SOCKET_KEY, i.key);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_SOCKET_LEVEL, i.level);
        return e;
    }
    ExprPtr operator()(const insn::Cmp& i) const {
        auto e = make("cmp");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_SREG, i.sreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_OP, i.op);
        set_bytes(e.get(), NFTNL_EXPR_CMP_DATA, i.data);
        return e;
    }
    ExprPtr operator()(const insn::Range& i) const {
        auto e = make("range");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_RANGE_SREG, i.sreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_RANGE_OP, i.op);
        set_bytes(e.get(), NFTNL_EXPR_RANGE_FROM_DATA, i.from);
        set_bytes(e.get(), NFTNL_EXPR_RANGE_TO_DATA, i.to);
        return e;
    }
    ExprPtr operator()(const insn::Bitwise& i) const {
        auto e = make("bitwise");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_SREG, i.sreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_DREG, i.dreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_LEN, i.len);
        set_bytes(e.get(), NFTNL_EXPR_BITWISE_MASK, i.mask);
        set_bytes(e.get(), NFTNL_EXPR_BITWISE_XOR, i.xor_);
        return e;
    }
    ExprPtr operator()(const insn::Byteorder& i) const {
        auto e = make("byteorder");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BYTEORDER_SREG, i.sreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BYTEORDER_DREG, i.dreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BYTEORDER_LEN, i.len);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BYTEORDER_SIZE, i.size);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BYTEORDER_OP, i.op);
        return e;
    }
    ExprPtr operator()(const insn::Lookup& i) const {
        auto e = make("lookup");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_SREG, i.sreg);
        nftnl_expr_set_str(e.get(), NFTNL_EXPR_LOOKUP_SET, i.set.c_str());
        // nft sets flags only for `!=`; the kernel reports them always, so printing needs them.
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_FLAGS, i.flags);
        return e;
    }
    ExprPtr operator()(const insn::Immediate& i) const {
        auto e = make("immediate");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, i.dreg);
        set_bytes(e.get(), NFTNL_EXPR_IMM_DATA, i.data);
        return e;
    }
    ExprPtr operator()(const insn::Verdict& i) const {
        auto e = make("immediate");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, 0);
        if (!i.chain.empty()) nftnl_expr_set_str(e.get(), NFTNL_EXPR_IMM_CHAIN, i.chain.c_str());
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT, static_cast<std::uint32_t>(i.code));
        return e;
    }
    ExprPtr operator()(const insn::MetaSet& i) const {
        auto e = make("meta");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_SREG, i.sreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_KEY, i.key);
        return e;
    }
    ExprPtr operator()(const insn::PayloadSet& i) const {
        auto e = make("payload");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_SREG, i.sreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_BASE, i.base);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_OFFSET, i.offset);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_LEN, i.len);
        if (i.csum_offset) {
            nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_CSUM_TYPE, i.csum_type);
            nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, i.csum_offset);
        }
        if (i.csum_flags) nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_FLAGS, i.csum_flags);
        return e;
    }
    ExprPtr operator()(const insn::Counter& i) const {
        auto e = make("counter");
        if (i.packets) nftnl_expr_set_u64(e.get(), NFTNL_EXPR_CTR_PACKETS, i.packets);
        if (i.bytes) nftnl_expr_set_u64(e.get(), NFTNL_EXPR_CTR_BYTES, i.bytes);
        return e;
    }
    ExprPtr operator()(const insn::Limit& i) const {
        auto e = make("limit");
        nftnl_expr_set_u64(e.get(), NFTNL_EXPR_LIMIT_RATE, i.rate);
        nftnl_expr_set_u64(e.get(), NFTNL_EXPR_LIMIT_UNIT, i.unit);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LIMIT_TYPE, i.type);
        if (i.burst) nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LIMIT_BURST, i.burst);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LIMIT_FLAGS, i.flags);
        return e;
    }
    ExprPtr operator()(const insn::Log& i) const {
        auto e = make("log");
        if (!i.prefix.empty()) nftnl_expr_set_str(e.get(), NFTNL_EXPR_LOG_PREFIX, i.prefix.c_str());
        if (i.has_group) nftnl_expr_set_u16(e.get(), NFTNL_EXPR_LOG_GROUP, i.group);
        return e;
    }
    ExprPtr operator()(const insn::Tproxy& i) const {
        auto e = make("tproxy");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_TPROXY_FAMILY, i.family);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_TPROXY_REG_PORT, i.port_reg);
        return e;
    }
    ExprPtr operator()(const insn::Unknown&) const { return nullptr; }  // never sent
};

std::uint32_t u32(const nftnl_expr* e, std::uint16_t a) { return nftnl_expr_is_set(e, a) ? nftnl_expr_get_u32(e, a) : 0; }
Bytes bytes(const nftnl_expr* e, std::uint16_t a) {
    if (!nftnl_expr_is_set(e, a)) return {};
    std::uint32_t len = 0;
    const auto* p = static_cast<const std::uint8_t*>(nftnl_expr_get(e, a, &len));
    return Bytes(p, p + len);
}
std::string str(const nftnl_expr* e, std::uint16_t a) {
    const char* s = nftnl_expr_is_set(e, a) ? nftnl_expr_get_str(e, a) : nullptr;
    return s ? s : "";
}

std::string expr_text(const nftnl_expr* e) {
    char buf[4096];
    nftnl_expr_snprintf(buf, sizeof buf, e, NFTNL_OUTPUT_DEFAULT, 0);
    return std::string(str(e, NFTNL_EXPR_NAME)) + " " + buf;
}

Insn parse(const nftnl_expr* e) {
    const std::string name = str(e, NFTNL_EXPR_NAME);
    if (name == "meta") {
        if (nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG)) return insn::MetaSet{u32(e, NFTNL_EXPR_META_KEY), u32(e, NFTNL_EXPR_META_SREG)};
        return insn::Meta{u32(e, NFTNL_EXPR_META_KEY), u32(e, NFTNL_EXPR_META_DREG)};
    }
    if (name == "payload") {
        if (nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG))
            return insn::PayloadSet{u32(e, NFTNL_EXPR_PAYLOAD_SREG),        u32(e, NFTNL_EXPR_PAYLOAD_BASE),
                                    u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),      u32(e, NFTNL_EXPR_PAYLOAD_LEN),
                                    u32(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE),   u32(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET),
                                    u32(e, NFTNL_EXPR_PAYLOAD_FLAGS)};
        return insn::Payload{u32(e, NFTNL_EXPR_PAYLOAD_BASE), u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
                             u32(e, NFTNL_EXPR_PAYLOAD_LEN), u32(e, NFTNL_EXPR_PAYLOAD_DREG)};
    }
    if (name == "ct" && !nftnl_expr_is_set(e, NFTNL_EXPR_CT_SREG) && !nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR))
        return insn::Ct{u32(e, NFTNL_EXPR_CT_KEY), u32(e, NFTNL_EXPR_CT_DREG)};
    if (name == "socket")
        return insn::Socket{u32(e, NFTNL_EXPR_SOCKET_KEY), u32(e, NFTNL_EXPR_SOCKET_LEVEL), u32(e, NFTNL_EXPR_SOCKET_DREG)};
    if (name == "cmp") return insn::Cmp{u32(e, NFTNL_EXPR_CMP_SREG), u32(e, NFTNL_EXPR_CMP_OP), bytes(e, NFTNL_EXPR_CMP_DATA)};
    if (name == "range")
        return insn::Range{u32(e, NFTNL_EXPR_RANGE_SREG), u32(e, NFTNL_EXPR_RANGE_OP), bytes(e, NFTNL_EXPR_RANGE_FROM_DATA),
                           bytes(e, NFTNL_EXPR_RANGE_TO_DATA)};
    if (name == "bitwise" && u32(e, NFTNL_EXPR_BITWISE_OP) == 0)
        return insn::Bitwise{u32(e, NFTNL_EXPR_BITWISE_SREG), u32(e, NFTNL_EXPR_BITWISE_DREG), u32(e, NFTNL_EXPR_BITWISE_LEN),
                             bytes(e, NFTNL_EXPR_BITWISE_MASK), bytes(e, NFTNL_EXPR_BITWISE_XOR)};
    if (name == "byteorder")
        return insn::Byteorder{u32(e, NFTNL_EXPR_BYTEORDER_SREG), u32(e, NFTNL_EXPR_BYTEORDER_DREG),
                               u32(e, NFTNL_EXPR_BYTEORDER_OP), u32(e, NFTNL_EXPR_BYTEORDER_LEN),
                               u32(e, NFTNL_EXPR_BYTEORDER_SIZE)};
    if (name == "lookup" && !nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
        return insn::Lookup{u32(e, NFTNL_EXPR_LOOKUP_SREG), str(e, NFTNL_EXPR_LOOKUP_SET), u32(e, NFTNL_EXPR_LOOKUP_FLAGS)};
    if (name == "immediate") {
        if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT))
            return insn::Verdict{static_cast<std::int32_t>(u32(e, NFTNL_EXPR_IMM_VERDICT)), str(e, NFTNL_EXPR_IMM_CHAIN)};
        return insn::Immediate{u32(e, NFTNL_EXPR_IMM_DREG), bytes(e, NFTNL_EXPR_IMM_DATA)};
    }
    if (name == "counter")
        return insn::Counter{nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS), nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES)};
    if (name == "limit")
        return insn::Limit{nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE), nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT),
                           u32(e, NFTNL_EXPR_LIMIT_BURST), u32(e, NFTNL_EXPR_LIMIT_TYPE), u32(e, NFTNL_EXPR_LIMIT_FLAGS)};
    if (name == "log" && !nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL) && !nftnl_expr_is_set(e, NFTNL_EXPR_LOG_FLAGS) &&
        !u32(e, NFTNL_EXPR_LOG_SNAPLEN) && !(nftnl_expr_is_set(e, NFTNL_EXPR_LOG_QTHRESHOLD) && nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD)))
        return insn::Log{str(e, NFTNL_EXPR_LOG_PREFIX),
                         nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP) ? nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP) : std::uint16_t{0},
                         nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP)};
    if (name == "tproxy" && !nftnl_expr_is_set(e, NFTNL_EXPR_TPROXY_REG_ADDR))
        return insn::Tproxy{u32(e, NFTNL_EXPR_TPROXY_FAMILY), u32(e, NFTNL_EXPR_TPROXY_REG_PORT)};
    return insn::Unknown{expr_text(e)};
}

}  // namespace

void add_exprs(nftnl_rule* rule, const std::vector<Insn>& insns) {
    for (const auto& i : insns)
        if (auto e = std::visit(Build{}, i)) nftnl_rule_add_expr(rule, e.release());
}

std::vector<Insn> read_exprs(nftnl_rule* rule) {
    std::vector<Insn> out;
    nftnl_expr_foreach(
        rule,
        [](nftnl_expr* e, void* data) {
            static_cast<std::vector<Insn>*>(data)->push_back(parse(e));
            return 0;
        },
        &out);
    return out;
}

std::string bytecode_text(const std::vector<Insn>& insns) {
    std::string out;
    for (const auto& i : insns) {
        if (const auto* u = std::get_if<insn::Unknown>(&i)) {
            out += "  [ " + u->text + " ]\n";
            continue;
        }
        auto e = std::visit(Build{}, i);
        char buf[4096];
        nftnl_expr_snprintf(buf, sizeof buf, e.get(), NFTNL_OUTPUT_DEFAULT, 0);
        out += "  [ " + str(e.get(), NFTNL_EXPR_NAME) + " " + buf + "]\n";
    }
    return out;
}

}  // namespace modgate::nft
