// Netlink dumps of one table's objects, parsed with libnftnl into plain structs.
#include "gateway/nft/kernel_state.hpp"

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <memory>

#include "gateway/nft/expr_codec.hpp"
#include "gateway/nft/nftnl_ptr.hpp"

namespace modgate::nft {

using ruleset::Family;
using ruleset::Hook;

std::uint16_t nfproto(Family f) {
    switch (f) {
        case Family::inet: return NFPROTO_INET;
        case Family::bridge: return NFPROTO_BRIDGE;
        case Family::arp: return NFPROTO_ARP;
    }
    return NFPROTO_UNSPEC;
}

std::optional<Family> family_of(std::uint32_t p) {
    switch (p) {
        case NFPROTO_INET: return Family::inet;
        case NFPROTO_BRIDGE: return Family::bridge;
        case NFPROTO_ARP: return Family::arp;
        default: return std::nullopt;
    }
}

std::optional<std::uint32_t> hook_number(Family f, Hook h) {
    if (f == Family::arp) {  // NF_ARP_IN, NF_ARP_OUT, NF_ARP_FORWARD
        switch (h) {
            case Hook::input: return 0;
            case Hook::output: return 1;
            case Hook::forward: return 2;
            default: return std::nullopt;
        }
    }
    return static_cast<std::uint32_t>(h);  // NF_INET_* and NF_BR_* share the numbers of Hook
}

std::optional<Hook> hook_of(Family f, std::uint32_t num) {
    for (Hook h : {Hook::prerouting, Hook::input, Hook::forward, Hook::output, Hook::postrouting})
        if (hook_number(f, h) == num) return h;
    return std::nullopt;
}

namespace {

Bytes data_of(const void* p, std::uint32_t len) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    return b ? Bytes(b, b + len) : Bytes{};
}

char request_buf[4096];

nlmsghdr* dump_request(Socket& s, std::uint16_t type, Family f) {
    return nftnl_nlmsg_build_hdr(request_buf, type, nfproto(f), NLM_F_DUMP, s.next_seq());
}

Error with_context(Error e, const std::string& what) {
    e.message = what + ": " + e.message;
    return e;
}

}  // namespace

Result<KTable> read_structure(Socket& s, Family f, const std::string& table) {
    KTable t;
    t.family = f;
    t.name = table;
    const std::string what = std::string("reading table ") + ruleset::to_string(f) + " " + table;

    auto* req = nftnl_nlmsg_build_hdr(request_buf, NFT_MSG_GETTABLE, nfproto(f), NLM_F_ACK, s.next_seq());
    mnl_attr_put_strz(req, NFTA_TABLE_NAME, table.c_str());
    auto r = s.request(req, [&](const nlmsghdr*) -> Result<void> { return {}; });
    if (!r && r.error().code == ENOENT) return t;
    if (!r) return std::unexpected(with_context(r.error(), what));
    t.exists = true;

    req = dump_request(s, NFT_MSG_GETCHAIN, f);
    r = s.request(req, [&](const nlmsghdr* nlh) -> Result<void> {
        ChainPtr c(nftnl_chain_alloc());
        if (nftnl_chain_nlmsg_parse(nlh, c.get()) < 0) return std::unexpected(sys_error("parsing a chain"));
        if (table != nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)) return {};  // chain dumps cover the family
        KChain k;
        k.name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
        k.base = nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM);
        if (k.base) {
            k.hook = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
            k.prio = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
            k.type = nftnl_chain_is_set(c.get(), NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE) : "";
            k.policy = nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY) ? nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY) : NF_ACCEPT;
        }
        t.chains.push_back(std::move(k));
        return {};
    });
    if (!r) return std::unexpected(with_context(r.error(), what));

    req = dump_request(s, NFT_MSG_GETSET, f);
    mnl_attr_put_strz(req, NFTA_SET_TABLE, table.c_str());
    r = s.request(req, [&](const nlmsghdr* nlh) -> Result<void> {
        SetPtr st(nftnl_set_alloc());
        if (nftnl_set_nlmsg_parse(nlh, st.get()) < 0) return std::unexpected(sys_error("parsing a set"));
        KSet k;
        k.name = nftnl_set_get_str(st.get(), NFTNL_SET_NAME);
        k.wire.flags = nftnl_set_get_u32(st.get(), NFTNL_SET_FLAGS);
        k.anonymous = (k.wire.flags & NFT_SET_ANONYMOUS) != 0;
        k.wire.key_type = nftnl_set_get_u32(st.get(), NFTNL_SET_KEY_TYPE);
        k.wire.key_len = nftnl_set_get_u32(st.get(), NFTNL_SET_KEY_LEN);
        std::uint32_t len = 0;
        if (nftnl_set_is_set(st.get(), NFTNL_SET_USERDATA)) {
            const void* p = nftnl_set_get_data(st.get(), NFTNL_SET_USERDATA, &len);
            k.wire.userdata = data_of(p, len);
        }
        if (nftnl_set_is_set(st.get(), NFTNL_SET_DESC_CONCAT)) {
            const void* p = nftnl_set_get_data(st.get(), NFTNL_SET_DESC_CONCAT, &len);
            k.wire.field_len = data_of(p, len);
        }
        // Maps, objects, timeouts and sizes the model never sets make the definition differ.
        if (nftnl_set_is_set(st.get(), NFTNL_SET_DATA_TYPE) || nftnl_set_is_set(st.get(), NFTNL_SET_TIMEOUT) ||
            (nftnl_set_is_set(st.get(), NFTNL_SET_DESC_SIZE) && nftnl_set_get_u32(st.get(), NFTNL_SET_DESC_SIZE)))
            k.wire.flags |= 0x80000000u;
        t.sets.push_back(std::move(k));
        return {};
    });
    if (!r) return std::unexpected(with_context(r.error(), what));
    return t;
}

Result<std::vector<KRule>> read_rules(Socket& s, Family f, const std::string& table) {
    return read_chain_rules(s, f, table, {});
}

Result<std::vector<KRule>> read_chain_rules(Socket& s, Family f, const std::string& table, const std::string& chain) {
    std::vector<KRule> out;
    auto* req = dump_request(s, NFT_MSG_GETRULE, f);
    mnl_attr_put_strz(req, NFTA_RULE_TABLE, table.c_str());
    if (!chain.empty()) mnl_attr_put_strz(req, NFTA_RULE_CHAIN, chain.c_str());
    auto r = s.request(req, [&](const nlmsghdr* nlh) -> Result<void> {
        RulePtr rule(nftnl_rule_alloc());
        if (nftnl_rule_nlmsg_parse(nlh, rule.get()) < 0) return std::unexpected(sys_error("parsing a rule"));
        KRule k;
        k.chain = nftnl_rule_get_str(rule.get(), NFTNL_RULE_CHAIN);
        k.handle = nftnl_rule_get_u64(rule.get(), NFTNL_RULE_HANDLE);
        k.code.insns = read_exprs(rule.get());
        if (nftnl_rule_is_set(rule.get(), NFTNL_RULE_USERDATA)) {
            std::uint32_t len = 0;
            const void* p = nftnl_rule_get_data(rule.get(), NFTNL_RULE_USERDATA, &len);
            k.code.userdata = data_of(p, len);
        }
        out.push_back(std::move(k));
        return {};
    });
    if (!r) return std::unexpected(with_context(r.error(), std::string("reading rules of ") + ruleset::to_string(f) + " " + table));
    return out;
}

Result<KElems> read_elements(Socket& s, Family f, const std::string& table, const std::string& set) {
    KElems out;
    auto* req = dump_request(s, NFT_MSG_GETSETELEM, f);
    mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
    mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_SET, set.c_str());
    auto r = s.request(req, [&](const nlmsghdr* nlh) -> Result<void> {
        SetPtr st(nftnl_set_alloc());
        if (nftnl_set_elems_nlmsg_parse(nlh, st.get()) < 0) return std::unexpected(sys_error("parsing set elements"));
        nftnl_set_elem_foreach(
            st.get(),
            [](nftnl_set_elem* e, void* data) {
                auto* o = static_cast<KElems*>(data);
                ElemWire w;
                std::uint32_t len = 0;
                // libnftnl 1.2.4 does not mark parsed keys as set: ask for the data directly.
                if (const void* k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len)) w.key = data_of(k, len);
                len = 0;
                if (const void* k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len)) w.key_end = data_of(k, len);
                if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS)) w.flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
                if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT)) w.timeout_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
                len = 0;
                if (const void* u = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len)) w.userdata = data_of(u, len);
                o->expires_ms.push_back(nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION)
                                            ? nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION)
                                            : 0);
                o->elems.push_back(std::move(w));
                return 0;
            },
            &out);
        return {};
    });
    if (!r) return std::unexpected(with_context(r.error(), "reading elements of set " + set));
    return out;
}

}  // namespace modgate::nft
