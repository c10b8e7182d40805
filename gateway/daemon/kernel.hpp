// The daemon's view of the kernel door (gateway/nft/): apply, presence, change events, NFLOG.
#pragma once
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "policy/contracts.hpp"
#include "policy/ruleset.hpp"

namespace modgate::daemon {

struct DropRecord {
    std::optional<policy::DropPrefix> prefix;  // none: a record that is not one of our drop rules
    std::string in, out;  // physical interfaces, when the kernel gives them
    std::string proto;    // "tcp", "udp", "icmp", "arp", "ipv6", ...
    std::string src, dst;  // IPv4 or IPv6 text, as the kernel gave them
    std::uint16_t sport = 0, dport = 0;
};

// What one read of the change monitor found: foreign changes to our tables, or a failure to
// read (which is not a change: the daemon reports it and keeps watching).
struct MonitorRead {
    std::string foreign;  // descriptions joined with "; ", empty when none
    std::string error;
};

// A refused apply: the message, and where in the policy the refused object came from when the
// kernel named one (its rule's origin), so a reload_failed event can point at the line.
struct ApplyError {
    std::string message;
    ruleset::Origin origin;
};

class Kernel {
public:
    virtual ~Kernel() = default;
    virtual std::expected<void, ApplyError> apply(const ruleset::Ruleset& rs) = 0;
    // Whether all of modgate's tables are in the kernel.
    virtual bool tables_present(const ruleset::Ruleset& rs) = 0;
    // Change notifications: fd to wait on, then read what arrived.
    virtual int monitor_fd() = 0;
    virtual MonitorRead process_monitor() = 0;
    // Packets each drop rule counted ("flow:in" -> n), summed over tables; empty on error.
    virtual std::map<std::string, std::uint64_t> drop_counters(const ruleset::Ruleset& rs) = 0;
    // NFLOG: fd to wait on; process() delivers the records read and returns an error text when
    // reading failed (records were lost: `lost` says how many the kernel counted, when known).
    virtual int nflog_fd() = 0;
    virtual std::string process_nflog(const std::function<void(const DropRecord&)>& on_record, std::uint64_t& lost) = 0;
};

// The netlink implementation: watches the tables of `rs` (their names never change), NFLOG
// bound to `nflog_group`.
std::expected<std::unique_ptr<Kernel>, std::string> open_kernel(const ruleset::Ruleset& rs, std::uint16_t nflog_group);

}  // namespace modgate::daemon
