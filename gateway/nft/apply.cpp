// The apply engine: plan against what the kernel holds (read at a generation), build one batch
// with libnftnl objects, send it guarded by that generation, map any refusal back to the model.
#include "gateway/nft/apply.hpp"

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <functional>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "gateway/nft/expr_codec.hpp"
#include "gateway/nft/nftnl_ptr.hpp"
#include "gateway/nft/kernel_state.hpp"
#include "gateway/nft/lower.hpp"
#include "gateway/nft/netlink.hpp"
#include "gateway/nft/set_codec.hpp"

namespace modgate::nft {

using namespace ruleset;

namespace {

constexpr std::size_t elem_nest_limit = 60000;  // NFTA_SET_ELEM_LIST_ELEMENTS has a 16-bit length

std::string tname(const Table& t) { return fmt::format("{} {}", to_string(t.family), t.name); }

Origin rule_origin(const Rule& r) {
    Origin o = r.origin;
    if (o.what.empty()) o.what = r.comment;
    return o;
}

// Everything that does not depend on the kernel's state, computed (and checked) before talking
// to it: a model error never reaches the kernel.
struct Prepared {
    struct T {
        const Table* table;
        std::vector<std::vector<RuleCode>> rules;  // per chain
        std::vector<SetWire> sets;
    };
    std::vector<T> tables;
};

Result<Prepared> prepare(const Ruleset& rs) {
    Prepared p;
    std::set<std::pair<Family, std::string>> seen_tables;
    for (const auto& t : rs.tables) {
        if (!seen_tables.insert({t.family, t.name}).second)
            return std::unexpected(model_error(fmt::format("table {} appears twice", tname(t))));
        Prepared::T pt{&t, {}, {}};
        std::set<std::string> names;
        for (const auto& s : t.sets) {
            if (!names.insert(s.name).second) return std::unexpected(model_error(fmt::format("set {} {} appears twice", tname(t), s.name)));
            auto w = set_wire(s);
            if (!w) return std::unexpected(model_error(fmt::format("set {} {}: {}", tname(t), s.name, w.error().message)));
            pt.sets.push_back(*w);
        }
        names.clear();
        for (const auto& c : t.chains) {
            if (!names.insert(c.name).second) return std::unexpected(model_error(fmt::format("chain {} {} appears twice", tname(t), c.name)));
            if (c.base && !hook_number(t.family, c.base->hook))
                return std::unexpected(model_error(fmt::format("chain {} {}: the {} family has no {} hook", tname(t), c.name,
                                                               to_string(t.family), to_string(c.base->hook))));
            std::vector<RuleCode> codes;
            for (std::size_t i = 0; i < c.rules.size(); ++i) {
                auto code = lower_rule(t, c.rules[i]);
                if (!code) {
                    Error e = code.error();
                    KernelError where{0, fmt::format("rule {} of chain {} {}", i + 1, tname(t), c.name), rule_origin(c.rules[i]), {}};
                    e.message = fmt::format("{}: {}", where.object, e.message);
                    e.kernel.push_back(std::move(where));
                    return std::unexpected(std::move(e));
                }
                codes.push_back(std::move(*code));
            }
            pt.rules.push_back(std::move(codes));
        }
        p.tables.push_back(std::move(pt));
    }
    return p;
}

class Builder {
public:
    Builder(Batch& b) : batch_(b) {}

    void table(const Table& t) {
        TablePtr nt(nftnl_table_alloc());
        nftnl_table_set_u32(nt.get(), NFTNL_TABLE_FLAGS, 0);
        auto* nlh = batch_.begin(NFT_MSG_NEWTABLE, nfproto(t.family), NLM_F_CREATE, {"table " + tname(t), {}, {}});
        mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, t.name.c_str());
        nftnl_table_nlmsg_build_payload(nlh, nt.get());
    }

    void flush_rules(const Table& t) {
        RulePtr r(nftnl_rule_alloc());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, t.name.c_str());
        auto* nlh = batch_.begin(NFT_MSG_DELRULE, nfproto(t.family), 0, {"rules of table " + tname(t), {}, {}});
        nftnl_rule_nlmsg_build_payload(nlh, r.get());
    }

    void delete_chain(const Table& t, const std::string& name) {
        ChainPtr c(nftnl_chain_alloc());
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, t.name.c_str());
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name.c_str());
        auto* nlh = batch_.begin(NFT_MSG_DELCHAIN, nfproto(t.family), 0, {fmt::format("old chain {} {}", tname(t), name), {}, {}});
        nftnl_chain_nlmsg_build_payload(nlh, c.get());
    }

    void delete_set(const Table& t, const std::string& name) {
        SetPtr s(nftnl_set_alloc());
        nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, t.name.c_str());
        nftnl_set_set_str(s.get(), NFTNL_SET_NAME, name.c_str());
        auto* nlh = batch_.begin(NFT_MSG_DELSET, nfproto(t.family), 0, {fmt::format("old set {} {}", tname(t), name), {}, {}});
        nftnl_set_nlmsg_build_payload(nlh, s.get());
    }

    void new_set(const Table& t, const Set& s, const SetWire& w) {
        SetPtr ns(nftnl_set_alloc());
        nftnl_set_set_str(ns.get(), NFTNL_SET_TABLE, t.name.c_str());
        nftnl_set_set_str(ns.get(), NFTNL_SET_NAME, s.name.c_str());
        nftnl_set_set_u32(ns.get(), NFTNL_SET_ID, ++set_id_);
        nftnl_set_set_u32(ns.get(), NFTNL_SET_FLAGS, w.flags);
        nftnl_set_set_u32(ns.get(), NFTNL_SET_KEY_TYPE, w.key_type);
        nftnl_set_set_u32(ns.get(), NFTNL_SET_KEY_LEN, w.key_len);
        if (!w.field_len.empty()) nftnl_set_set_data(ns.get(), NFTNL_SET_DESC_CONCAT, w.field_len.data(), static_cast<std::uint32_t>(w.field_len.size()));
        nftnl_set_set_data(ns.get(), NFTNL_SET_USERDATA, w.userdata.data(), static_cast<std::uint32_t>(w.userdata.size()));
        auto* nlh = batch_.begin(NFT_MSG_NEWSET, nfproto(t.family), NLM_F_CREATE, {fmt::format("set {} {}", tname(t), s.name), {}, {}});
        nftnl_set_nlmsg_build_payload(nlh, ns.get());
    }

    Result<std::vector<ElemWire>> encode(const Table& t, const Set& s, bool first_segment) {
        auto elems = encode_elements(s, s.elements, first_segment);
        if (!elems) return std::unexpected(model_error(fmt::format("set {} {}: {}", tname(t), s.name, elems.error().message)));
        return elems;
    }

    // NEWSETELEM/DELSETELEM messages for `elems`, each element nest remembered with the model
    // element it came from.
    void put(std::uint16_t type, const Table& t, const Set& s, const std::vector<ElemWire>& elems) {
        for (std::size_t i = 0; i < elems.size();) {
            auto* nlh = batch_.begin(type, nfproto(t.family), type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, {}, elem_nest_limit + 8192);
            std::vector<std::uint32_t> offsets;
            const std::size_t next = put_elements(nlh, t.name, s.name, elems, i, elem_nest_limit, offsets);
            auto& o = batch_.last_origin();
            o.object = fmt::format("elements of set {} {}", tname(t), s.name);
            for (std::size_t k = 0; k < offsets.size(); ++k) {
                const int src = elems[i + k].source;
                MessageOrigin::Elem e;
                e.offset = offsets[k];
                if (src >= 0) {
                    const auto& el = s.elements[static_cast<std::size_t>(src)];
                    e.object = fmt::format("element {} ({}) of set {} {}", src + 1, element_text(s, el), tname(t), s.name);
                    e.origin = el.origin;
                } else {
                    e.object = fmt::format("{} of set {} {}", type == NFT_MSG_NEWSETELEM ? "interval start" : "old element", tname(t), s.name);
                }
                o.elems.push_back(std::move(e));
            }
            i = next;
        }
    }

    void chain(const Table& t, const Chain& c) {
        ChainPtr nc(nftnl_chain_alloc());
        nftnl_chain_set_str(nc.get(), NFTNL_CHAIN_TABLE, t.name.c_str());
        nftnl_chain_set_str(nc.get(), NFTNL_CHAIN_NAME, c.name.c_str());
        if (c.base) {
            nftnl_chain_set_u32(nc.get(), NFTNL_CHAIN_HOOKNUM, *hook_number(t.family, c.base->hook));
            nftnl_chain_set_s32(nc.get(), NFTNL_CHAIN_PRIO, c.base->priority);
            nftnl_chain_set_str(nc.get(), NFTNL_CHAIN_TYPE, "filter");
            nftnl_chain_set_u32(nc.get(), NFTNL_CHAIN_POLICY, c.base->policy_drop ? NF_DROP : NF_ACCEPT);
        }
        auto* nlh = batch_.begin(NFT_MSG_NEWCHAIN, nfproto(t.family), NLM_F_CREATE, {fmt::format("chain {} {}", tname(t), c.name), {}, {}});
        nftnl_chain_nlmsg_build_payload(nlh, nc.get());
    }

    void rule(const Table& t, const Chain& c, std::size_t index, const RuleCode& code) {
        RulePtr r(nftnl_rule_alloc());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, t.name.c_str());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, c.name.c_str());
        add_exprs(r.get(), code.insns);
        if (!code.userdata.empty())
            nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, code.userdata.data(), static_cast<std::uint32_t>(code.userdata.size()));
        const Rule& mr = c.rules[index];
        auto* nlh = batch_.begin(NFT_MSG_NEWRULE, nfproto(t.family), NLM_F_CREATE | NLM_F_APPEND,
                                 {fmt::format("rule {} of chain {} {}", index + 1, tname(t), c.name), rule_origin(mr), {}},
                                 4096 + code.insns.size() * 512);
        nftnl_rule_nlmsg_build_payload(nlh, r.get());
    }

private:
    Batch& batch_;
    std::uint32_t set_id_ = 0;
};

// What to delete from and add to a set holding `have` so it holds exactly `want`. Elements are
// the same when every attribute we set is; a changed timeout or comment replaces the element.
std::pair<std::vector<ElemWire>, std::vector<ElemWire>> element_delta(const std::vector<ElemWire>& have, std::vector<ElemWire> want) {
    auto id = [](const ElemWire& e) {
        Bytes k = e.key;
        k.push_back(0xff);
        k.insert(k.end(), e.key_end.begin(), e.key_end.end());
        k.push_back(static_cast<std::uint8_t>(e.flags & NFT_SET_ELEM_INTERVAL_END));
        return k;
    };
    std::map<Bytes, const ElemWire*> current;
    for (const auto& e : have) current[id(e)] = &e;
    std::vector<ElemWire> gone, added;
    for (auto& w : want) {
        auto it = current.find(id(w));
        if (it != current.end() && it->second->timeout_ms == w.timeout_ms && it->second->userdata == w.userdata) {
            current.erase(it);
            continue;
        }
        added.push_back(std::move(w));
    }
    for (const auto& [k, e] : current) {
        ElemWire d;  // a delete names the element only
        d.key = e->key;
        d.key_end = e->key_end;
        d.flags = e->flags & NFT_SET_ELEM_INTERVAL_END;
        gone.push_back(std::move(d));
    }
    return {std::move(gone), std::move(added)};
}

bool same_chain(const Table& t, const Chain& c, const KChain& k) {
    if (c.base.has_value() != k.base) return false;
    if (!k.base) return true;
    return k.type == "filter" && k.hook == hook_number(t.family, c.base->hook) && k.prio == c.base->priority;
}

struct Plan {
    std::unique_ptr<Batch> batch;
    std::size_t kept = 0;
};

// The kernel lists chains and sets in creation order, and `nft list` shows that order. Kept
// objects stay where they are and new ones are appended, so once the model's order leaves the
// kept ones' order, every later object that may be moved is re-created to restore it. Base
// chains and dynamic sets are never moved (re-registering a hook, or refilling open windows, is
// worse than an order that differs from the renderer's).
std::set<std::string> to_reorder(const std::vector<std::string>& model, const std::vector<std::string>& kept,
                                 const std::function<bool(const std::string&)>& movable) {
    std::set<std::string> kept_set(kept.begin(), kept.end()), out;
    std::size_t j = 0;
    bool diverged = false;
    for (const auto& name : model) {
        if (!diverged && j < kept.size() && kept[j] == name) {
            ++j;
            continue;
        }
        if (!kept_set.count(name)) {
            diverged = true;
            continue;
        }
        if (movable(name)) {
            diverged = true;
            out.insert(name);
        } else if (!diverged) {
            while (j < kept.size() && kept[j] != name) ++j;  // an unmovable one out of place
            if (j < kept.size()) ++j;
        }
    }
    return out;
}

Result<void> plan_table(Socket& sock, Builder& b, Plan& plan, const Prepared::T& pt) {
    const Table& t = *pt.table;
    auto k = read_structure(sock, t.family, t.name);
    if (!k) return std::unexpected(k.error());
    b.table(t);
    // Sets whose definition is unchanged stay: the compiler's end up holding exactly the model's
    // elements, dynamic ones keep theirs. Changed or unknown sets are deleted and re-created.
    std::set<std::string> kept_sets, dynamic_sets, kept_chains;
    std::map<std::string, std::vector<ElemWire>> old_elems;  // of kept compiler-owned sets
    if (k->exists) {
        b.flush_rules(t);
        std::vector<std::string> chain_order, kept_order, set_order, kept_set_order;
        for (const auto& c : t.chains) chain_order.push_back(c.name);
        for (const auto& kc : k->chains) {
            const Chain* c = t.find_chain(kc.name);
            if (c && same_chain(t, *c, kc)) kept_order.push_back(kc.name);
        }
        const auto move_chains = to_reorder(chain_order, kept_order, [&](const std::string& n) { return !t.find_chain(n)->base; });
        for (const auto& kc : k->chains) {
            const Chain* c = t.find_chain(kc.name);
            if (!c || !same_chain(t, *c, kc) || move_chains.count(kc.name)) b.delete_chain(t, kc.name);
            else kept_chains.insert(kc.name);
        }
        for (const auto& s : t.sets) set_order.push_back(s.name);
        for (const auto& ks : k->sets) {
            const Set* s = ks.anonymous ? nullptr : t.find_set(ks.name);
            if (s && pt.sets[static_cast<std::size_t>(s - t.sets.data())] == ks.wire) kept_set_order.push_back(ks.name);
        }
        const auto move_sets = to_reorder(set_order, kept_set_order, [&](const std::string& n) { return !t.find_set(n)->dynamic; });
        for (const auto& ks : k->sets) {
            if (ks.anonymous) continue;  // bound to rules: gone with them
            const Set* s = t.find_set(ks.name);
            if (!s || pt.sets[static_cast<std::size_t>(s - t.sets.data())] != ks.wire || move_sets.count(ks.name)) {
                b.delete_set(t, ks.name);
                continue;
            }
            kept_sets.insert(ks.name);
            if (s->dynamic) {
                dynamic_sets.insert(ks.name);
                ++plan.kept;
            } else {
                auto el = read_elements(sock, t.family, t.name, ks.name);
                if (!el) return std::unexpected(el.error());
                old_elems[ks.name] = std::move(el->elems);
            }
        }
    }
    for (std::size_t i = 0; i < t.sets.size(); ++i) {
        const auto& s = t.sets[i];
        if (!kept_sets.count(s.name)) b.new_set(t, s, pt.sets[i]);
        auto wires = b.encode(t, s, !dynamic_sets.count(s.name));
        if (!wires) return std::unexpected(wires.error());
        auto old = old_elems.find(s.name);
        if (old == old_elems.end()) {
            b.put(NFT_MSG_NEWSETELEM, t, s, *wires);
            continue;
        }
        // Only the difference is sent: refilling a large interval set in one transaction costs
        // the kernel seconds, the difference usually nothing.
        auto [gone, added] = element_delta(old->second, std::move(*wires));
        b.put(NFT_MSG_DELSETELEM, t, s, gone);
        b.put(NFT_MSG_NEWSETELEM, t, s, added);
    }
    for (const auto& c : t.chains) b.chain(t, c);  // creates, or updates the policy of a kept one
    for (std::size_t ci = 0; ci < t.chains.size(); ++ci)
        for (std::size_t ri = 0; ri < t.chains[ci].rules.size(); ++ri) b.rule(t, t.chains[ci], ri, pt.rules[ci][ri]);
    return {};
}

Result<Plan> build(Socket& sock, const Prepared& prep, std::uint32_t genid, bool check) {
    Plan plan;
    plan.batch = std::make_unique<Batch>(sock.next_seq(), genid);
    Builder b(*plan.batch);
    for (const auto& pt : prep.tables)
        if (auto r = plan_table(sock, b, plan, pt); !r) return std::unexpected(r.error());
    plan.batch->finish(!check);
    // The batch used sequence numbers after the begin marker; keep the socket's counter ahead.
    for (std::size_t i = 0; i <= plan.batch->messages() + 1; ++i) sock.next_seq();
    return plan;
}

}  // namespace

Result<ApplyReport> apply(const Ruleset& rs, const ApplyOptions& opts) {
    auto prep = prepare(rs);
    if (!prep) return std::unexpected(prep.error());
    auto sock = Socket::open();
    if (!sock) return std::unexpected(sock.error());
    ApplyReport report;
    for (int attempt = 1;; ++attempt) {
        report.attempts = attempt;
        auto gen = get_generation(*sock);
        if (!gen) return std::unexpected(gen.error());
        auto plan = build(*sock, *prep, *gen, opts.check);
        if (!plan) {
            if (plan.error().code == EINTR && attempt < 5) continue;  // a dump raced a change
            return std::unexpected(plan.error());
        }
        report.messages = plan->batch->messages();
        report.bytes = plan->batch->size();
        report.kept_dynamic_sets = plan->kept;
        auto sent = plan->batch->send(*sock);
        if (!sent && sent.error().code == ERESTART && attempt < 5) continue;  // generation moved
        if (!sent) return std::unexpected(sent.error());
        if (opts.check) {
            report.generation = *gen;
        } else {
            auto after = get_generation(*sock);
            report.generation = after ? *after : 0;
        }
        return report;
    }
}

}  // namespace modgate::nft
