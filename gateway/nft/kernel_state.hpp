// Reading what the kernel holds for one table, through netlink dumps parsed with libnftnl: the
// table, its chains and sets (for planning an apply), its rules and set elements (for read-back).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/nft/error.hpp"
#include "gateway/nft/insn.hpp"
#include "gateway/nft/netlink.hpp"
#include "gateway/nft/set_codec.hpp"
#include "policy/ruleset.hpp"

namespace modgate::nft {

std::uint16_t nfproto(ruleset::Family f);
std::optional<ruleset::Family> family_of(std::uint32_t nfproto);
// The hook number of a model hook in a family, nullopt where the family has no such hook.
std::optional<std::uint32_t> hook_number(ruleset::Family f, ruleset::Hook h);
std::optional<ruleset::Hook> hook_of(ruleset::Family f, std::uint32_t num);

struct KChain {
    std::string name;
    bool base = false;
    std::uint32_t hook = 0;
    std::int32_t prio = 0;
    std::string type;
    std::uint32_t policy = 1;  // NF_ACCEPT
};

struct KSet {
    std::string name;
    SetWire wire;
    bool anonymous = false;
};

struct KRule {
    std::string chain;
    std::uint64_t handle = 0;
    RuleCode code;
};

struct KElems {
    std::vector<ElemWire> elems;
    std::vector<std::uint64_t> expires_ms;  // parallel to elems
};

struct KTable {
    ruleset::Family family = ruleset::Family::inet;
    std::string name;
    bool exists = false;
    std::vector<KChain> chains;  // in the kernel's order
    std::vector<KSet> sets;      // named sets only
};

// Table, chains and sets; `exists` false when there is no such table.
Result<KTable> read_structure(Socket& s, ruleset::Family f, const std::string& table);
Result<std::vector<KRule>> read_rules(Socket& s, ruleset::Family f, const std::string& table);
// The rules of one chain only (the kernel filters the dump).
Result<std::vector<KRule>> read_chain_rules(Socket& s, ruleset::Family f, const std::string& table,
                                            const std::string& chain);
Result<KElems> read_elements(Socket& s, ruleset::Family f, const std::string& table, const std::string& set);

}  // namespace modgate::nft
