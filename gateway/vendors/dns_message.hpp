// DNS wire format for resolving vendor host names to IPv4 addresses through the management DNS
// servers: an A query, a checked decoder for its response, and the TCP length-prefix framing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace modgate::vendors {

// RFC 1035 4.1.1 and RFC 6895; the header's 4 bits carry 0..15, all representable here.
enum class Rcode : std::uint8_t {
    noerror = 0,
    formerr = 1,
    servfail = 2,
    nxdomain = 3,
    notimp = 4,
    refused = 5,
};
std::string to_string(Rcode r);  // "NOERROR", "NXDOMAIN", ..., "RCODE11" for the rest

struct DnsQuery {
    bool ok = false;
    std::vector<std::uint8_t> bytes;  // one question, type A, class IN, recursion desired
    std::string error;
};

// `name` must be a valid host name (a trailing dot is allowed and dropped).
DnsQuery encode_a_query(std::uint16_t id, std::string_view name);

enum class DnsStatus : std::uint8_t {
    ok,         // a response to our question: read rcode, truncated and addresses
    mismatch,   // not a response to our question (id, QR, opcode or question differ): keep waiting
    malformed,  // claims to answer us but does not parse: treat as a failed server
};
const char* to_string(DnsStatus s);

struct Ipv4Ttl {
    std::uint32_t address = 0;  // host order: 203.0.113.10 is 0xcb00710a
    std::uint32_t ttl = 0;      // seconds; already the minimum over the CNAME chain that led here
    bool operator==(const Ipv4Ttl&) const = default;
};

struct DnsAnswer {
    DnsStatus status = DnsStatus::malformed;
    Rcode rcode = Rcode::noerror;
    bool truncated = false;           // TC: retry over TCP; no answers are taken from such a message
    std::vector<Ipv4Ttl> addresses;   // only with NOERROR; in message order, duplicates merged
    std::uint32_t min_ttl = 0;        // over `addresses`; 0 when there are none
    std::string canonical_name;       // where the CNAME chain ended (the query name without one)
    std::string error;                // mismatch and malformed: what was wrong
};

// How far a CNAME chain inside one answer is followed before the response is refused.
inline constexpr std::size_t max_cname_chain = 8;

// Decodes the response to the A query `id` for `name`. Any length that claims more than its
// parent, a compression pointer that does not point strictly backwards, a label over 63 bytes,
// a name over 255 bytes, a CNAME loop or a chain over max_cname_chain makes it malformed.
DnsAnswer decode_a_response(std::span<const std::uint8_t> message, std::uint16_t id, std::string_view name);

// DNS over TCP (RFC 1035 4.2.2): each message carries a 2-byte big-endian length prefix.
// False, and `out` untouched, when the message does not fit 65535 bytes.
bool append_tcp_frame(std::span<const std::uint8_t> message, std::vector<std::uint8_t>& out);

enum class FrameStatus : std::uint8_t { need_more, ok, malformed };
struct TcpFrame {
    FrameStatus status = FrameStatus::need_more;
    std::span<const std::uint8_t> message;  // ok: a view into the stream passed in
    std::size_t consumed = 0;               // ok: prefix plus message, to drop from the stream
};
// The first message in a TCP stream buffer; a zero length prefix is malformed.
TcpFrame next_tcp_frame(std::span<const std::uint8_t> stream);

}  // namespace modgate::vendors
