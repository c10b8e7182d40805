// Entry points: policy text or file -> validated Policy plus diagnostics. Never throws for bad
// input; every problem becomes a located diagnostic. (No std::expected: fuzzed with clang 14.)
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/diagnostics.hpp"
#include "policy/model.hpp"

namespace modgate::policy {

struct LoadResult {
    std::string source;              // file name as given
    std::string text;                // the file's contents (for printing source lines)
    std::optional<Policy> policy;    // set only when there are no errors (warnings allowed)
    Diagnostics diagnostics;
    bool unreadable = false;         // the file could not be read at all

    // All diagnostics formatted, then "policy OK" / "policy OK (N warnings)" when valid.
    std::string report() const;
};

LoadResult load_string(std::string_view text, std::string source);
LoadResult load_file(const std::string& path);
// A text that load_string() or load_file() accepted before, loaded again where the time zone
// database cannot be read (modgated's proxy process, in its empty root): time zone names are
// taken as they are, everything else is checked as always.
LoadResult load_checked(std::string_view text, std::string source);

// A stable digest of the policy text, shown in status and events (hex, 16 digits).
std::string policy_hash(std::string_view text);

}  // namespace modgate::policy
