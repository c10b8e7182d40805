// Change events: a subscription to the kernel's nftables notifications that reports changes to
// modgate's tables, telling our own transactions (sockets of this process) from anyone else's
// (`nft flush ruleset`, `nft delete table`, a rule added by hand). Poll-able: put fd() in an event
// loop (Boost.Asio posix::stream_descriptor, epoll) and call process_readable() when readable.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gateway/nft/error.hpp"
#include "gateway/nft/readback.hpp"

namespace modgate::nft {

struct TableChange {
    enum class Kind : std::uint8_t {
        table_added, table_removed, chain_added, chain_removed, rule_added, rule_removed,
        set_added, set_removed, elements_added, elements_removed,
        lost,  // notifications were dropped (receive queue overrun): re-read the tables
    };
    Kind kind = Kind::lost;
    TableId table;
    std::string object;        // chain or set name, empty for tables
    bool ours = false;         // made through a socket of this process
    std::uint32_t portid = 0;  // netlink port of whoever made it
    std::string process;       // name and pid of that process, from the generation notice
};

const char* to_string(TableChange::Kind k);
std::string describe(const TableChange& c);  // "rule added to chain forward of bridge modgate by nft[1234]"

class ChangeMonitor {
public:
    // Watches the given tables (empty: every table). Needs CAP_NET_ADMIN.
    static Result<ChangeMonitor> open(std::vector<TableId> watch);
    ChangeMonitor(ChangeMonitor&&) noexcept;
    ChangeMonitor& operator=(ChangeMonitor&&) noexcept;
    ~ChangeMonitor();

    int fd() const;

    // Reads everything queued without blocking. Changes are returned once their transaction's
    // generation notice has arrived (so `process` is known); also passed to the callback if set.
    Result<std::vector<TableChange>> process_readable();
    void on_change(std::function<void(const TableChange&)> cb) { cb_ = std::move(cb); }

    // Blocks up to `timeout_ms` for at least one change; for tests and simple tools.
    Result<std::vector<TableChange>> wait(int timeout_ms);

private:
    ChangeMonitor() = default;
    int fd_ = -1;
    std::uint32_t own_portid_ = 0;
    std::vector<TableId> watch_;
    std::vector<TableChange> pending_;  // waiting for their transaction's generation notice
    std::function<void(const TableChange&)> cb_;
};

}  // namespace modgate::nft
