// Helpers for the netlink engine's root tests: shell commands in this and the oracle namespace,
// the canonical forms listings and bytecode are compared in, and models shaped like the
// compiler's output (the /tmp/proto prototypes: bridge, inet and arp tables).
#pragma once
#include <string>
#include <vector>

#include "policy/ruleset.hpp"

namespace modgate::nfttest {

struct Cmd {
    int status = -1;  // exit status, -1 when it did not exit normally
    std::string out;  // stdout (stderr too when `merge`)
};
Cmd run(const std::string& cmd, bool merge = false);
std::string must(const std::string& cmd);  // run, require exit 0, return stdout

// Namespaces made by run_in_netns.sh: this process runs in `self_ns()`; `oracle_ns()` is a second,
// empty namespace where `nft -f` loads the renderer's text.
std::string self_ns();
std::string oracle_ns();
std::string in_oracle(const std::string& cmd);  // "ip netns exec ORACLE cmd"

// `nft list` text without what differs between equal rulesets: the `table {}`/`flush` preamble,
// counter values, element expiry; element lists sorted one per line.
std::string canonical_listing(const std::string& text);
// `nft --debug=netlink list ruleset` without rule handles and counter values; set blocks sorted
// by name and elements within them sorted (hash order differs between namespaces).
std::string canonical_bytecode(const std::string& text);
// Line-by-line difference, for failure messages.
std::string show_diff(const std::string& want, const std::string& got);

// Byte-exact dump of the current namespace's tables through the engine's parser: set wire
// attributes (flags, key type and length, field lengths, userdata) and every expression with its
// exact data lengths. Catches what `nft --debug=netlink` prints alike (a 1- vs 4-byte compare).
std::string raw_dump(const std::vector<std::pair<ruleset::Family, std::string>>& tables);

std::vector<std::pair<ruleset::Family, std::string>> table_names(const ruleset::Ruleset& rs);

// Everything that differs between what the engine applied in this namespace and what `nft -f`
// makes of the renderer's text in the oracle (which is flushed and loaded here): each table's
// canonical listing against render_table, the canonical bytecode, the byte-exact dump.
std::vector<std::string> compare_with_nft(const ruleset::Ruleset& rs);

// Models in the shapes the compiler emits.
ruleset::Table proto_bridge();
ruleset::Table proto_inet();
ruleset::Table proto_arp();
ruleset::Table proto_extra();  // r2/r3 odds and ends: merged ARP header, prefixes, wildcards, ranges
ruleset::Ruleset proto_ruleset();

// ICMP echo requests of 84 bytes (as `ping` sends), without needing iputils: raw socket, no wait
// for replies. Throws on socket errors.
void send_pings(const std::string& dst, int count);

// Helper modes of the test programs, run in the oracle namespace through `ip netns exec`:
// `--raw-dump FAMILY TABLE...` and `--ping DST COUNT`. Returns -1 when argv asks for neither.
int run_helper(int argc, char** argv);
std::string self_exe();

// Writes the renderer's text to a temporary file and loads it with `nft -f` in the oracle.
void oracle_load(const ruleset::Ruleset& rs);

}  // namespace modgate::nfttest
