// The ruleset model: nftables tables, sets, chains and rules as plain data. The compiler produces
// it, render.cpp prints it as nft text, and gateway/nft/ turns it into one netlink batch.
//
// Rules are written the way `nft list` prints them: protocol dependencies that nft adds on its
// own (`ether type ip` before `ip saddr` in the bridge family, `meta nfproto ipv4` and
// `meta l4proto tcp` before `ip saddr`/`tcp dport` in inet) are not part of the model; the
// renderer omits them and the netlink layer inserts them exactly where nft does.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "policy/net.hpp"

namespace modgate::ruleset {

using policy::Cidr;
using policy::Ipv4;
using policy::Mac;

enum class Family : std::uint8_t { inet, bridge, arp };

// A packet or metadata field a rule can match, set, or use in a set key.
enum class Field : std::uint8_t {
    meta_iifname, meta_oifname, meta_nfproto, meta_l4proto, meta_mark, meta_pkttype,
    ether_daddr, ether_saddr, ether_type,
    arp_htype, arp_ptype, arp_hlen, arp_plen, arp_operation,
    arp_saddr_ether, arp_saddr_ip, arp_daddr_ether, arp_daddr_ip,
    ip_saddr, ip_daddr,
    tcp_sport, tcp_dport, udp_sport, udp_dport,
    ct_state, socket_transparent, socket_wildcard,
};

// Symbolic constants, with their wire values.
namespace value {
inline constexpr std::uint64_t ethertype_ip = 0x0800, ethertype_arp = 0x0806, ethertype_ip6 = 0x86dd;
inline constexpr std::uint64_t nfproto_ipv4 = 2, nfproto_ipv6 = 10;
inline constexpr std::uint64_t l4_tcp = 6, l4_udp = 17, l4_icmp = 1;
inline constexpr std::uint64_t arp_request = 1, arp_reply = 2;
inline constexpr std::uint64_t pkttype_host = 0;
inline constexpr std::uint64_t ct_invalid = 1, ct_established = 2, ct_related = 4, ct_new = 8;
}  // namespace value

// Numbers (ports, protocols, marks, ct state bits) are uint64; strings are interface names.
using Value = std::variant<std::uint64_t, std::string, Ipv4, Cidr, Mac>;

enum class Op : std::uint8_t {
    eq,       // field == value
    ne,       // field != value
    range,    // value <= field <= high   (e.g. `arp operation 1-2`)
    any_bit,  // field & value != 0        (`ct state established,related`)
};

struct Match {
    Field field;
    Op op = Op::eq;
    Value value;
    Value high{};  // only for Op::range
    bool operator==(const Match&) const = default;
};

// `field1 . field2 ... @set` (negate: `!= @set`).
struct Lookup {
    std::vector<Field> key;
    std::string set;
    bool negate = false;
    bool operator==(const Lookup&) const = default;
};

struct Counter {
    // Read back from the kernel only (the compiler leaves them 0); ignored by operator==.
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    bool operator==(const Counter&) const { return true; }
};

// `limit rate RATE/second burst BURST packets`
struct Limit {
    std::uint32_t rate = 0;
    std::uint32_t burst = 0;
    bool operator==(const Limit&) const = default;
};

// `log prefix "PREFIX" group GROUP` (NFLOG)
struct Log {
    std::string prefix;
    std::uint16_t group = 0;
    bool operator==(const Log&) const = default;
};

// `FIELD set VALUE`: meta mark, meta pkttype, ether daddr, arp saddr ip.
struct SetField {
    Field field;
    Value value;
    bool operator==(const SetField&) const = default;
};

// `tproxy ip to :PORT`
struct Tproxy {
    std::uint16_t port = 0;
    bool operator==(const Tproxy&) const = default;
};

struct Verdict {
    enum class Kind : std::uint8_t { accept, drop, ret, jump, go_to } kind = Kind::accept;
    std::string chain;  // jump/goto target
    bool operator==(const Verdict&) const = default;
};

using Stmt = std::variant<Match, Lookup, Counter, Limit, Log, SetField, Tproxy, Verdict>;

// Where a rule or element came from, for error messages: a policy location, or a description.
struct Origin {
    std::string what;            // e.g. "allow 'pet-ct-1 -> pacs dicom'", "anti-spoofing"
    std::uint32_t line = 0;      // policy file line, 0 when not from a policy line
    std::uint32_t col = 0;
    bool operator==(const Origin&) const = default;
};

struct Rule {
    std::vector<Stmt> stmts;
    std::string comment;  // rendered as `comment "..."`, stored as rule userdata like nft does
    Origin origin;        // not part of the kernel object: ignored by operator==
    bool operator==(const Rule& o) const { return stmts == o.stmts && comment == o.comment; }
};

enum class Hook : std::uint8_t { prerouting, input, forward, output, postrouting };

struct BaseChain {
    Hook hook = Hook::prerouting;
    std::int32_t priority = 0;  // rendered by name where nft names it (filter, mangle, ...)
    bool policy_drop = false;
    bool operator==(const BaseChain&) const = default;
};

struct Chain {
    std::string name;
    std::optional<BaseChain> base;  // type filter, when set
    std::vector<Rule> rules;
    bool operator==(const Chain&) const = default;
};

enum class KeyType : std::uint8_t { ipv4_addr, ether_addr, inet_service, inet_proto, mark, ifname };

struct Element {
    std::vector<Value> key;         // one value per key field; Cidr only in interval sets
    std::uint64_t timeout_ms = 0;   // 0 = no timeout
    std::uint64_t expires_ms = 0;   // read back from the kernel only; ignored by operator==
    std::string comment;
    Origin origin;                  // ignored by operator==
    bool operator==(const Element& o) const {
        return key == o.key && timeout_ms == o.timeout_ms && comment == o.comment;
    }
};

struct Set {
    std::string name;
    std::vector<KeyType> key;
    bool interval = false;
    bool timeout = false;
    // Dynamic sets (maintenance windows) keep their elements across re-applies; the compiler
    // owns every element of the others, which are re-created exactly on each apply.
    bool dynamic = false;
    std::vector<Element> elements;  // sorted by the compiler, for deterministic output
    bool operator==(const Set&) const = default;
};

struct Table {
    Family family = Family::inet;
    std::string name;
    std::vector<Set> sets;
    std::vector<Chain> chains;
    bool operator==(const Table&) const = default;

    const Set* find_set(std::string_view n) const;
    const Chain* find_chain(std::string_view n) const;
};

struct Ruleset {
    std::vector<Table> tables;
    bool operator==(const Ruleset&) const = default;
    const Table* find(Family f, std::string_view name) const;
};

const char* to_string(Family);
const char* to_string(Field);    // nft syntax: "iifname", "ip saddr", "arp saddr ether", ...
const char* to_string(KeyType);  // "ipv4_addr"
const char* to_string(Hook);

}  // namespace modgate::ruleset
