// The parser: a rule's bytecode read back from the kernel becomes model statements again, with
// merged payload compares split into fields and nft's implicit dependencies dropped.
#pragma once
#include "gateway/nft/insn.hpp"
#include "policy/ruleset.hpp"

namespace modgate::nft {

struct Raised {
    ruleset::Rule rule;
    // True when lowering `rule` gives back exactly the bytecode read: the model says all there is.
    // False for rules someone else wrote with expressions the model cannot hold.
    bool exact = false;
};

// `table` gives the family and the sets (their flags decide byte-order conversions).
Raised raise_rule(const ruleset::Table& table, const RuleCode& code);

}  // namespace modgate::nft
