// Internal to the loader: TOML text -> Policy (syntax and per-field checks), then the semantic
// validator (cross references, overlaps, addressing). Both only add diagnostics.
#pragma once
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>

#include "policy/diagnostics.hpp"
#include "policy/duration.hpp"
#include "policy/model.hpp"

namespace modgate::policy::detail {

// Locations of individual values, keyed like "allow.3.to" or "modality.0.ip", so semantic
// checks can point at the exact value rather than its table.
struct SourceMap {
    std::map<std::string, Loc, std::less<>> at;
    std::set<std::string, std::less<>> invalid;  // values that did not parse: skip checks on them
    bool ok(std::string_view key) const { return !invalid.contains(key); }
    Loc get(std::string_view key, Loc fallback) const {
        auto it = at.find(key);
        return it == at.end() ? fallback : it->second;
    }
};

// Returns false on a TOML syntax error (reported; nothing else is checked then).
bool parse(std::string_view text, const std::string& source, Policy& out, SourceMap& locs, Diagnostics& d);

// Semantic validation of a parsed policy; fills resolved fields (allow ports, names).
// tz_exists tells whether an IANA time zone name is known (the loader looks in the tz database).
void validate(Policy& p, const SourceMap& locs, Diagnostics& d, bool (*tz_exists)(std::string_view));

using policy::format_duration;
using policy::parse_duration;

}  // namespace modgate::policy::detail
