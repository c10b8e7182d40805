// The compiler: a pure function from a validated policy to the ruleset model.
#pragma once
#include "policy/contracts.hpp"
#include "policy/model.hpp"
#include "policy/ruleset.hpp"

namespace modgate::policy {

// The ruleset for `mode`, which the daemon owns at run time (the policy's mode is only the
// default): enforce is the data path of DESIGN.md, island drops everything to and from the
// modalities. Learn has no compiler yet (the validator refuses it): std::logic_error.
ruleset::Ruleset compile(const Policy& p, Mode mode);

// Before any policy was ever applied (the boot-time ruleset's fallback): one bridge table, named
// like the enforce ruleset's so that modgated's first apply replaces it in the same transaction,
// whose forward chain drops every frame on every bridge.
ruleset::Ruleset default_deny();

// compile(p, p.gateway.mode).
ruleset::Ruleset compile(const Policy& p);

}  // namespace modgate::policy
