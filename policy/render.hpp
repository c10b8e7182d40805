// Deterministic nft text for a ruleset model, in the form `nft list table` prints it, so the
// output loads with `nft -f` and compares with what the kernel holds.
#pragma once
#include <string>

#include "policy/ruleset.hpp"

namespace modgate::ruleset {

// The whole ruleset: for each table, `table FAMILY NAME {}` and `flush table FAMILY NAME`
// (so a file load replaces our tables atomically and touches no other), then the definition.
std::string render_file(const Ruleset& rs);

// One table exactly as `nft list table` prints it (no preamble, counters at zero omitted).
std::string render_table(const Table& t);

std::string render_value(Field f, const Value& v);
std::string render_key_value(KeyType k, const Value& v);
std::string render_stmt(Family fam, const Stmt& s);
std::string render_rule(Family fam, const Rule& r);
std::string render_priority(Family fam, std::int32_t prio);
std::string render_duration_ms(std::uint64_t ms);  // nft's "1h30m", "10s", "250ms"

}  // namespace modgate::ruleset
