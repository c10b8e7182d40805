// NFLOG reader: binds one nfnetlink_log group (the `log group N` of modgate's drop rules) and
// turns each logged packet into a plain record. Poll-able like ChangeMonitor: fd() plus
// process_readable(). Needs CAP_NET_ADMIN; one reader per group (the kernel allows one binding).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/nft/error.hpp"

namespace modgate::nft {

struct LogRecord {
    std::string prefix;
    std::uint16_t group = 0;
    std::uint8_t family = 0;   // NFPROTO_* of the hook that logged (7 = bridge)
    std::uint8_t hook = 0;
    // Interfaces: in a bridge, in/out are the bridge and phys_in/phys_out the ports.
    std::uint32_t in_index = 0, out_index = 0, phys_in_index = 0, phys_out_index = 0;
    std::string in_name, out_name, phys_in_name, phys_out_name;
    std::uint16_t l3_proto = 0;  // ethertype: 0x0800 IPv4, 0x0806 ARP, 0x86dd IPv6
    std::string src, dst;        // addresses (ARP: sender and target protocol address)
    std::uint8_t l4_proto = 0;   // IPPROTO_*; 0 when not IP
    std::uint16_t sport = 0, dport = 0;
    std::uint32_t length = 0;    // layer-3 length
};

class NflogReader {
public:
    // `copy_range`: bytes of each packet the kernel copies (headers are enough).
    static Result<NflogReader> open(std::uint16_t group, std::uint32_t copy_range = 128);
    NflogReader(NflogReader&&) noexcept;
    NflogReader& operator=(NflogReader&&) noexcept;
    ~NflogReader();

    int fd() const { return fd_; }
    // Everything queued, without blocking. `dropped()` counts records lost to queue overruns.
    Result<std::vector<LogRecord>> process_readable();
    std::uint64_t dropped() const { return dropped_; }

private:
    NflogReader() = default;
    int fd_ = -1;
    std::uint16_t group_ = 0;
    std::uint64_t dropped_ = 0;
};

// The record as one logfmt-ready line: "prefix=... in=gs0 src=... dst=... proto=tcp dport=104 len=60".
std::string describe(const LogRecord& r);

}  // namespace modgate::nft
