// Applying a ruleset model: one netlink transaction that creates or replaces exactly the tables in
// the model and touches no other. Rules, chains and the sets the compiler owns are re-created;
// a `dynamic` set whose definition is unchanged keeps its elements (open maintenance windows).
// Works in the network namespace of the calling process; needs CAP_NET_ADMIN there.
#pragma once
#include <cstddef>
#include <cstdint>

#include "gateway/nft/error.hpp"
#include "policy/ruleset.hpp"

namespace modgate::nft {

struct ApplyOptions {
    // Let the kernel validate the whole batch and commit nothing (like `nft -c`).
    bool check = false;
};

struct ApplyReport {
    std::size_t messages = 0;        // netlink messages in the batch
    std::size_t bytes = 0;           // size of the batch
    std::uint32_t generation = 0;    // ruleset generation after the commit (before it in check mode)
    std::size_t kept_dynamic_sets = 0;
    int attempts = 1;                // > 1 when someone changed the ruleset while we planned
};

// Errors: code 0 for a model the engine cannot express (nothing was sent); otherwise the errno
// of the first refused message, with `kernel` naming every refused object. Nothing is changed
// on error.
Result<ApplyReport> apply(const ruleset::Ruleset& rs, const ApplyOptions& opts = {});

}  // namespace modgate::nft
