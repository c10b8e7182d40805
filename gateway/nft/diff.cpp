// Diff between a compiled model and a read-back snapshot. Rules are aligned per chain with a
// longest common subsequence on their bytecode, so an inserted rule shows as one addition.
#include "gateway/nft/diff.hpp"

#include <map>

#include <fmt/format.h>

#include "gateway/nft/fields.hpp"
#include "gateway/nft/lower.hpp"
#include "gateway/nft/set_codec.hpp"
#include "policy/render.hpp"

namespace modgate::nft {

using namespace ruleset;

namespace {

std::string key_of(const Element& e) {
    std::string out;
    for (const auto& v : e.key) out += describe(v) + "|";
    return out;
}

std::string set_type(const Set& s) {
    std::string out;
    for (std::size_t i = 0; i < s.key.size(); ++i) out += (i ? " . " : "") + std::string(to_string(s.key[i]));
    if (s.interval) out += " interval";
    if (s.timeout) out += " timeout";
    return out;
}

std::string chain_def(Family f, const Chain& c) {
    if (!c.base) return "regular";
    return fmt::format("hook {} priority {} policy {}", to_string(c.base->hook), render_priority(f, c.base->priority),
                       c.base->policy_drop ? "drop" : "accept");
}

class Differ {
public:
    Diff out;

    void table(const Table& want, const LiveTable* have) {
        table_ = fmt::format("{} {}", to_string(want.family), want.name);
        if (!have) {
            add(Change::Kind::add, "table", fmt::format("{} sets, {} chains", want.sets.size(), want.chains.size()));
            static const LiveTable empty;
            have = &empty;
        }
        sets(want, *have);
        chains(want, *have);
    }

private:
    std::string table_;

    void add(Change::Kind k, std::string object, std::string detail = {}) {
        out.changes.push_back(Change{k, table_, std::move(object), std::move(detail)});
    }

    void sets(const Table& want, const LiveTable& have) {
        for (const auto& ws : want.sets) {
            const Set* hs = have.table.find_set(ws.name);
            const std::string obj = "set " + ws.name;
            bool recreate = !hs;
            if (hs && (hs->key != ws.key || hs->interval != ws.interval || hs->timeout != ws.timeout)) {
                add(Change::Kind::change, obj, fmt::format("type {} -> {}", set_type(*hs), set_type(ws)));
                recreate = true;
            }
            if (!hs) add(Change::Kind::add, obj, set_type(ws));
            std::map<std::string, const Element*> old;
            if (hs && !recreate)
                for (const auto& e : hs->elements) old[key_of(e)] = &e;
            for (const auto& e : ws.elements) {
                auto it = old.find(key_of(e));
                if (it == old.end()) {
                    add(Change::Kind::add, obj + " element", element_text(ws, e));
                } else {
                    if (!ws.dynamic && (it->second->timeout_ms != e.timeout_ms || it->second->comment != e.comment))
                        add(Change::Kind::change, obj + " element", element_text(ws, e));
                    old.erase(it);
                }
            }
            // Dynamic sets keep what the daemon put there; every other set is re-created exactly.
            if (ws.dynamic && !recreate) {
                out.kept_runtime_elements += old.size();
                continue;
            }
            if (hs && recreate) {
                for (const auto& e : hs->elements) add(Change::Kind::remove, obj + " element", element_text(*hs, e));
            } else {
                for (const auto& [k, e] : old) add(Change::Kind::remove, obj + " element", element_text(ws, *e));
            }
        }
        for (const auto& hs : have.table.sets)
            if (!want.find_set(hs.name)) add(Change::Kind::remove, "set " + hs.name, set_type(hs));
    }

    void chains(const Table& want, const LiveTable& have) {
        for (const auto& wc : want.chains) {
            const Chain* hc = have.table.find_chain(wc.name);
            std::size_t hi = hc ? static_cast<std::size_t>(hc - have.table.chains.data()) : 0;
            if (!hc) add(Change::Kind::add, "chain " + wc.name, chain_def(want.family, wc));
            else if (hc->base != wc.base)
                add(Change::Kind::change, "chain " + wc.name,
                    fmt::format("{} -> {}", chain_def(want.family, *hc), chain_def(want.family, wc)));
            static const std::vector<LiveRule> none;
            static const Chain empty;
            rules(want, wc, hc ? *hc : empty, hc ? have.rules[hi] : none);
        }
        for (const auto& hc : have.table.chains)
            if (!want.find_chain(hc.name)) {
                add(Change::Kind::remove, "chain " + hc.name, chain_def(want.family, hc));
                for (const auto& r : hc.rules) add(Change::Kind::remove, "rule of chain " + hc.name, render_rule(want.family, r));
            }
    }

    void rules(const Table& want, const Chain& wc, const Chain& hc, const std::vector<LiveRule>& live) {
        std::vector<RuleCode> wcode;
        for (const auto& r : wc.rules) {
            auto c = lower_rule(want, r);
            wcode.push_back(c ? *c : RuleCode{});
        }
        const std::size_t n = wcode.size(), m = live.size();
        std::vector<std::vector<std::size_t>> lcs(n + 1, std::vector<std::size_t>(m + 1, 0));
        for (std::size_t i = n; i-- > 0;)
            for (std::size_t j = m; j-- > 0;)
                lcs[i][j] = wcode[i] == live[j].code ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
        std::size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && wcode[i] == live[j].code) {
                ++i, ++j;
            } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
                add(Change::Kind::remove, fmt::format("rule {} of chain {}", j + 1, wc.name), render_rule(want.family, hc.rules[j]));
                ++j;
            } else {
                add(Change::Kind::add, fmt::format("rule {} of chain {}", i + 1, wc.name), render_rule(want.family, wc.rules[i]));
                ++i;
            }
        }
    }
};

}  // namespace

Diff diff(const Ruleset& want, const Snapshot& have) {
    Differ d;
    for (const auto& t : want.tables) d.table(t, have.find(id_of(t)));
    return std::move(d.out);
}

std::string Diff::text() const {
    if (changes.empty()) {
        std::string s = "no changes\n";
        if (kept_runtime_elements) s += fmt::format("({} runtime elements of dynamic sets are kept)\n", kept_runtime_elements);
        return s;
    }
    std::string out, table;
    for (const auto& c : changes) {
        if (c.table != table) {
            table = c.table;
            out += "table " + table + ":\n";
        }
        const char sign = c.kind == Change::Kind::add ? '+' : c.kind == Change::Kind::remove ? '-' : '~';
        out += fmt::format("  {} {}", sign, c.object);
        if (!c.detail.empty()) out += ": " + c.detail;
        out += '\n';
    }
    if (kept_runtime_elements) out += fmt::format("({} runtime elements of dynamic sets are kept)\n", kept_runtime_elements);
    return out;
}

}  // namespace modgate::nft
