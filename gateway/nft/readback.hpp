// Read-back: modgate's tables as the kernel holds them, parsed into the ruleset model, with rule
// counters, set elements (timeouts, expiry) and each rule's bytecode for exact comparison.
#pragma once
#include <cstdint>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "gateway/nft/error.hpp"
#include "gateway/nft/insn.hpp"
#include "policy/ruleset.hpp"

namespace modgate::nft {

struct TableId {
    ruleset::Family family = ruleset::Family::inet;
    std::string name;
    bool operator==(const TableId&) const = default;
};
TableId id_of(const ruleset::Table& t);
std::vector<TableId> ids_of(const ruleset::Ruleset& rs);

struct LiveRule {
    std::uint64_t handle = 0;
    RuleCode code;       // what the kernel holds, for byte-exact comparison
    bool exact = true;   // the model statements say everything the bytecode does
    std::string bytecode;  // libnftnl's text of the rule when not exact
};

struct LiveTable {
    ruleset::Table table;                     // rules in kernel order; counters and expiry filled in
    std::vector<std::vector<LiveRule>> rules; // parallel to table.chains[i].rules
    std::vector<std::string> notes;           // what the model could not say (foreign chain types...)
};

struct Snapshot {
    std::vector<LiveTable> tables;  // the requested tables that exist, in request order
    std::uint32_t generation = 0;
    const LiveTable* find(const TableId& id) const;
};

Result<Snapshot> read_tables(const std::vector<TableId>& ids);

// Packets counted by the logging rules of the named chains, by log prefix: one dump of each
// chain's rules, nothing else of the table (status reads its drop counters this way).
Result<std::map<std::string, std::uint64_t>> read_log_counters(
    const std::vector<std::pair<TableId, std::string>>& chains);

// The snapshot in `nft list` form, with counter values and element expiry; inexact rules are
// followed by their bytecode as comments.
std::string render_snapshot(const Snapshot& s);

}  // namespace modgate::nft
