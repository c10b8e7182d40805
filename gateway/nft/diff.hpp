// What applying a compiled ruleset would change in what the kernel holds: added, removed and
// changed sets, elements, chains and rules. Rules compare by bytecode, so a rule written
// differently but loading the same expressions is no change.
#pragma once
#include <string>
#include <vector>

#include "gateway/nft/readback.hpp"
#include "policy/ruleset.hpp"

namespace modgate::nft {

struct Change {
    enum class Kind : std::uint8_t { add, remove, change };
    Kind kind = Kind::add;
    std::string table;   // "inet modgate"
    std::string object;  // "set out_tcp", "chain from_bridge", "rule 3 of chain from_bridge", ...
    std::string detail;  // the element, the rule's text, what changed
};

struct Diff {
    std::vector<Change> changes;
    std::size_t kept_runtime_elements = 0;  // elements of dynamic sets that apply keeps
    bool empty() const { return changes.empty(); }
    // One line per change, grouped by table: "+ rule 3 of chain x: iifname ..." ; "no changes".
    std::string text() const;
};

Diff diff(const ruleset::Ruleset& want, const Snapshot& have);

}  // namespace modgate::nft
