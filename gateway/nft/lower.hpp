// The linearizer: a model rule, written in nft's listing form, becomes the bytecode `nft -f` would
// load for the rendered text, with nft's implicit protocol dependencies, payload merging,
// byte-order conversions and register allocation replicated.
#pragma once
#include "gateway/nft/error.hpp"
#include "gateway/nft/insn.hpp"
#include "policy/ruleset.hpp"

namespace modgate::nft {

// `table` supplies the family and the sets the rule looks up (their flags change the bytecode).
Result<RuleCode> lower_rule(const ruleset::Table& table, const ruleset::Rule& rule);

// The rule userdata nft writes for a comment (empty when there is none).
Bytes rule_userdata(const std::string& comment);
std::string comment_from_userdata(const Bytes& udata);

}  // namespace modgate::nft
