// Dump our tables and turn them into the model: sets first (rules need their flags to be parsed),
// then chains and rules, all read at one generation (retried if the ruleset moves meanwhile).
#include "gateway/nft/readback.hpp"

#include <linux/netfilter.h>

#include <fmt/format.h>

#include "gateway/nft/expr_codec.hpp"
#include "gateway/nft/kernel_state.hpp"
#include "gateway/nft/raise.hpp"
#include "gateway/nft/set_codec.hpp"
#include "policy/render.hpp"

namespace modgate::nft {

using namespace ruleset;

TableId id_of(const Table& t) { return TableId{t.family, t.name}; }

std::vector<TableId> ids_of(const Ruleset& rs) {
    std::vector<TableId> out;
    for (const auto& t : rs.tables) out.push_back(id_of(t));
    return out;
}

const LiveTable* Snapshot::find(const TableId& id) const {
    for (const auto& t : tables)
        if (t.table.family == id.family && t.table.name == id.name) return &t;
    return nullptr;
}

namespace {

Result<std::optional<LiveTable>> read_one(Socket& sock, const TableId& id) {
    auto k = read_structure(sock, id.family, id.name);
    if (!k) return std::unexpected(k.error());
    if (!k->exists) return std::optional<LiveTable>{};
    LiveTable lt;
    lt.table.family = id.family;
    lt.table.name = id.name;
    for (const auto& ks : k->sets) {
        if (ks.anonymous) continue;
        auto d = decode_set(ks.name, ks.wire);
        if (!d) {
            lt.notes.push_back(fmt::format("set {} has a key type the model cannot hold", ks.name));
            continue;
        }
        if (!d->exact) lt.notes.push_back(fmt::format("set {} has a definition the model cannot hold exactly", ks.name));
        auto elems = read_elements(sock, id.family, id.name, ks.name);
        if (!elems) return std::unexpected(elems.error());
        if (!decode_elements(d->set, elems->elems, elems->expires_ms))
            lt.notes.push_back(fmt::format("set {} holds elements the model cannot hold exactly", ks.name));
        lt.table.sets.push_back(std::move(d->set));
    }
    for (const auto& kc : k->chains) {
        Chain c;
        c.name = kc.name;
        if (kc.base) {
            auto hook = hook_of(id.family, kc.hook);
            c.base = BaseChain{hook.value_or(Hook::prerouting), kc.prio, kc.policy == NF_DROP};
            if (!hook || kc.type != "filter")
                lt.notes.push_back(fmt::format("chain {} is a {} chain on hook {}", kc.name, kc.type, kc.hook));
        }
        lt.table.chains.push_back(std::move(c));
    }
    lt.rules.resize(lt.table.chains.size());
    auto rules = read_rules(sock, id.family, id.name);
    if (!rules) return std::unexpected(rules.error());
    for (auto& kr : *rules) {
        Chain* c = nullptr;
        std::size_t ci = 0;
        for (; ci < lt.table.chains.size(); ++ci)
            if (lt.table.chains[ci].name == kr.chain) {
                c = &lt.table.chains[ci];
                break;
            }
        if (!c) continue;  // a chain added after our chain dump; the generation check retries
        auto raised = raise_rule(lt.table, kr.code);
        LiveRule live;
        live.handle = kr.handle;
        live.exact = raised.exact;
        if (!raised.exact) live.bytecode = bytecode_text(kr.code.insns);
        live.code = std::move(kr.code);
        c->rules.push_back(std::move(raised.rule));
        lt.rules[ci].push_back(std::move(live));
    }
    return std::optional<LiveTable>{std::move(lt)};
}

}  // namespace

Result<std::map<std::string, std::uint64_t>> read_log_counters(
    const std::vector<std::pair<TableId, std::string>>& chains) {
    auto sock = Socket::open();
    if (!sock) return std::unexpected(sock.error());
    std::map<std::string, std::uint64_t> out;
    for (const auto& [table, chain] : chains) {
        auto rules = read_chain_rules(*sock, table.family, table.name, chain);
        if (!rules) {
            if (rules.error().code == ENOENT) continue;  // not in the kernel (yet, or any more)
            return std::unexpected(rules.error());
        }
        for (const auto& r : *rules) {
            std::uint64_t packets = 0;
            const insn::Log* log = nullptr;
            for (const auto& i : r.code.insns) {
                if (const auto* c = std::get_if<insn::Counter>(&i)) packets = c->packets;
                if (const auto* l = std::get_if<insn::Log>(&i)) log = l;
            }
            if (log) out[log->prefix] += packets;
        }
    }
    return out;
}

Result<Snapshot> read_tables(const std::vector<TableId>& ids) {
    auto sock = Socket::open();
    if (!sock) return std::unexpected(sock.error());
    for (int attempt = 0;; ++attempt) {
        auto gen = get_generation(*sock);
        if (!gen) return std::unexpected(gen.error());
        Snapshot snap;
        snap.generation = *gen;
        Result<void> status;
        for (const auto& id : ids) {
            auto t = read_one(*sock, id);
            if (!t) {
                status = std::unexpected(t.error());
                break;
            }
            if (*t) snap.tables.push_back(std::move(**t));
        }
        auto after = get_generation(*sock);
        if (!after) return std::unexpected(after.error());
        const bool moved = *after != *gen || (!status && status.error().code == EINTR);
        if (moved && attempt < 5) continue;  // someone changed the ruleset while we read it
        if (!status) return std::unexpected(status.error());
        return snap;
    }
}

std::string render_snapshot(const Snapshot& s) {
    std::string out;
    for (const auto& lt : s.tables) {
        if (!out.empty()) out += '\n';
        std::string text = render_table(lt.table);
        // Inexact rules: show what the kernel really runs under the best-effort statement line.
        for (std::size_t ci = 0; ci < lt.table.chains.size(); ++ci) {
            for (std::size_t ri = 0; ri < lt.rules[ci].size(); ++ri) {
                const auto& live = lt.rules[ci][ri];
                if (live.exact) continue;
                const std::string line = "\t\t" + render_rule(lt.table.family, lt.table.chains[ci].rules[ri]) + "\n";
                auto pos = text.find(line);
                if (pos == std::string::npos) continue;
                std::string note = "\t\t# not fully understood, the kernel holds:\n";
                for (std::size_t b = 0, e; b < live.bytecode.size(); b = e + 1) {
                    e = live.bytecode.find('\n', b);
                    if (e == std::string::npos) e = live.bytecode.size();
                    note += "\t\t#" + live.bytecode.substr(b, e - b) + "\n";
                }
                text.insert(pos + line.size(), note);
            }
        }
        out += text;
        for (const auto& n : lt.notes) out += fmt::format("# {} {}: {}\n", to_string(lt.table.family), lt.table.name, n);
    }
    return out;
}

}  // namespace modgate::nft
