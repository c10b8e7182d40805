// The A query encoder, the checked response decoder (compression, CNAME chains, TTLs) and the
// TCP framing. Every name read is bounded: pointers only go backwards, labels and names are
// capped, so no message makes the decoder loop or read outside it.
#include "gateway/vendors/dns_message.hpp"

#include "gateway/vendors/host_name.hpp"
#include "gateway/vendors/wire_reader.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <limits>

namespace modgate::vendors {

namespace {

constexpr std::size_t header_size = 12;
constexpr std::uint16_t flag_qr = 0x8000;
constexpr std::uint16_t flag_tc = 0x0200;
constexpr std::uint16_t flag_rd = 0x0100;
constexpr std::uint16_t type_a = 1;
constexpr std::uint16_t type_cname = 5;
constexpr std::uint16_t class_in = 1;
constexpr std::size_t max_name_wire = 255;  // RFC 1035 2.3.4, length bytes and root included
constexpr std::size_t max_pointer_jumps = 128;

// A name as length-prefixed, lower-cased labels without the root byte. Names are compared in
// this form so that a '.' inside a label can never make two different names look alike.
using WireName = std::string;

std::string to_text(const WireName& name) {
    std::string out;
    for (std::size_t i = 0; i < name.size();) {
        const std::size_t len = static_cast<unsigned char>(name[i]);
        if (!out.empty()) out += '.';
        for (std::size_t j = i + 1; j < i + 1 + len; ++j) {
            const auto c = static_cast<unsigned char>(name[j]);
            const bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            // Presentation escapes (RFC 1035 5.1) keep hostile bytes out of events and logs.
            out += plain ? std::string(1, static_cast<char>(c)) : fmt::format("\\{:03d}", c);
        }
        i += 1 + len;
    }
    return out.empty() ? "." : out;
}

WireName from_host_name(std::string_view host) {
    WireName out;
    std::size_t start = 0;
    while (start <= host.size()) {
        std::size_t dot = host.find('.', start);
        if (dot == std::string_view::npos) dot = host.size();
        out += static_cast<char>(dot - start);
        out += ascii_lower(host.substr(start, dot - start));
        start = dot + 1;
    }
    return out;
}

// Reads the name at `pos` and moves `pos` past it (past the first pointer, if any). Every pointer
// must point before the start of the stretch of labels it ends, so each jump moves strictly
// backwards and no loop can form; pointers into the header are refused as well.
bool read_name(Bytes msg, std::size_t& pos, WireName& out, std::string& error) {
    out.clear();
    std::size_t at = pos;
    std::size_t segment_start = pos;
    std::size_t wire_len = 1;  // the root label
    std::size_t jumps = 0;
    bool jumped = false;
    while (true) {
        if (at >= msg.size()) {
            error = fmt::format("name at offset {} runs past the end of the message", pos);
            return false;
        }
        const std::uint8_t len = msg[at];
        if ((len & 0xc0) == 0xc0) {
            if (at + 1 >= msg.size()) {
                error = fmt::format("compression pointer at offset {} is cut off", at);
                return false;
            }
            const std::size_t target = (std::size_t{len & 0x3fu} << 8) | msg[at + 1];
            if (target >= segment_start || target < header_size || ++jumps > max_pointer_jumps) {
                error = fmt::format("compression pointer at offset {} to {} does not point back into the message",
                                    at, target);
                return false;
            }
            if (!jumped) pos = at + 2;
            jumped = true;
            at = segment_start = target;
            continue;
        }
        if ((len & 0xc0) != 0) {  // 0x40 and 0x80: extended and reserved label types (RFC 6891)
            error = fmt::format("label type 0x{:02x} at offset {}", len & 0xc0, at);
            return false;
        }
        if (len == 0) {
            if (!jumped) pos = at + 1;
            return true;
        }
        wire_len += 1 + std::size_t{len};
        if (wire_len > max_name_wire) {
            error = fmt::format("name at offset {} is longer than 255 bytes", pos);
            return false;
        }
        if (msg.size() - at - 1 < len) {
            error = fmt::format("label at offset {} runs past the end of the message", at);
            return false;
        }
        out += static_cast<char>(len);
        for (std::size_t i = at + 1; i <= at + len; ++i) out += ascii_lower(static_cast<char>(msg[i]));
        at += 1 + std::size_t{len};
    }
}

struct Record {
    WireName owner;
    std::uint16_t type = 0;
    std::uint16_t cls = 0;
    std::uint32_t ttl = 0;
    std::size_t rdata = 0;  // offset of the rdata in the message
    std::uint16_t rdlength = 0;
    WireName target;        // CNAME only
    std::uint32_t ipv4 = 0;  // A only
};

// RFC 2181 8: a TTL with the top bit set is read as zero.
std::uint32_t normalise_ttl(std::uint32_t ttl) { return (ttl & 0x80000000u) ? 0 : ttl; }

bool read_record(Bytes msg, std::size_t& pos, Record& rr, std::string& error) {
    if (!read_name(msg, pos, rr.owner, error)) return false;
    WireReader r(msg);
    if (!r.skip(pos) || !r.be16(rr.type) || !r.be16(rr.cls) || !r.be32(rr.ttl) || !r.be16(rr.rdlength)) {
        error = fmt::format("record at offset {} is cut off", pos);
        return false;
    }
    rr.ttl = normalise_ttl(rr.ttl);
    rr.rdata = r.pos();
    if (!r.skip(rr.rdlength)) {
        error = fmt::format("rdata at offset {} claims {} bytes, the message has {}", rr.rdata, rr.rdlength,
                            r.remaining());
        return false;
    }
    pos = r.pos();
    if (rr.cls != class_in) return true;
    const Bytes rdata = msg.subspan(rr.rdata, rr.rdlength);
    if (rr.type == type_a) {
        if (rdata.size() != 4) {
            error = fmt::format("A record at offset {} has {} bytes of rdata", rr.rdata, rr.rdlength);
            return false;
        }
        rr.ipv4 = (std::uint32_t{rdata[0]} << 24) | (std::uint32_t{rdata[1]} << 16) | (std::uint32_t{rdata[2]} << 8) |
                  rdata[3];
    } else if (rr.type == type_cname) {
        // The target may be compressed against the whole message, but must fill its rdata exactly.
        std::size_t at = rr.rdata;
        if (!read_name(msg.first(rr.rdata + rr.rdlength), at, rr.target, error)) return false;
        if (at != rr.rdata + rr.rdlength) {
            error = fmt::format("CNAME at offset {} has bytes after its target", rr.rdata);
            return false;
        }
    }
    return true;
}

DnsAnswer fail(DnsAnswer a, DnsStatus status, std::string error) {
    a.status = status;
    a.error = std::move(error);
    a.addresses.clear();
    a.min_ttl = 0;
    return a;
}

// Follows the CNAME chain from `name` inside the answer section; false with `error` on a loop,
// a name with two CNAMEs, or a chain longer than max_cname_chain.
bool follow_chain(const std::vector<Record>& answers, WireName& name, std::uint32_t& chain_ttl, std::string& error) {
    std::vector<WireName> seen{name};
    while (true) {
        const Record* cname = nullptr;
        for (const Record& rr : answers) {
            if (rr.cls != class_in || rr.type != type_cname || rr.owner != name) continue;
            if (cname != nullptr) {
                error = fmt::format("two CNAME records for {}", to_text(name));
                return false;
            }
            cname = &rr;
        }
        if (cname == nullptr) return true;
        if (std::find(seen.begin(), seen.end(), cname->target) != seen.end()) {
            error = fmt::format("CNAME loop at {}", to_text(cname->target));
            return false;
        }
        if (seen.size() > max_cname_chain) {
            error = fmt::format("CNAME chain longer than {}", max_cname_chain);
            return false;
        }
        chain_ttl = std::min(chain_ttl, cname->ttl);
        name = cname->target;
        seen.push_back(name);
    }
}

}  // namespace

std::string to_string(Rcode r) {
    switch (r) {
        case Rcode::noerror: return "NOERROR";
        case Rcode::formerr: return "FORMERR";
        case Rcode::servfail: return "SERVFAIL";
        case Rcode::nxdomain: return "NXDOMAIN";
        case Rcode::notimp: return "NOTIMP";
        case Rcode::refused: return "REFUSED";
    }
    return fmt::format("RCODE{}", static_cast<unsigned>(r));
}

const char* to_string(DnsStatus s) {
    switch (s) {
        case DnsStatus::ok: return "ok";
        case DnsStatus::mismatch: return "mismatch";
        case DnsStatus::malformed: return "malformed";
    }
    return "?";
}

DnsQuery encode_a_query(std::uint16_t id, std::string_view name) {
    DnsQuery q;
    const std::string_view host = strip_trailing_dot(name);
    if (!is_host_name(host)) {
        q.error = "not a valid host name";
        return q;
    }
    auto put16 = [&](std::uint16_t v) {
        q.bytes.push_back(static_cast<std::uint8_t>(v >> 8));
        q.bytes.push_back(static_cast<std::uint8_t>(v & 0xff));
    };
    put16(id);
    put16(flag_rd);  // the management servers are recursive resolvers
    put16(1);  // one question, no other records
    put16(0);
    put16(0);
    put16(0);
    for (char c : from_host_name(host)) q.bytes.push_back(static_cast<std::uint8_t>(c));
    q.bytes.push_back(0);
    put16(type_a);
    put16(class_in);
    q.ok = true;
    return q;
}

DnsAnswer decode_a_response(std::span<const std::uint8_t> message, std::uint16_t id, std::string_view name) {
    DnsAnswer a;
    const std::string_view host = strip_trailing_dot(name);
    if (!is_host_name(host)) return fail(a, DnsStatus::mismatch, "the query name is not a valid host name");
    const WireName qname = from_host_name(host);

    WireReader r(message);
    std::uint16_t got_id = 0, flags = 0, qd = 0, an = 0, ns = 0, ar = 0;
    if (!r.be16(got_id) || !r.be16(flags) || !r.be16(qd) || !r.be16(an) || !r.be16(ns) || !r.be16(ar))
        return fail(a, DnsStatus::malformed, fmt::format("{} bytes is shorter than a DNS header", message.size()));
    // Anything that might be meant for another query is a mismatch, never an answer for this one.
    if (got_id != id) return fail(a, DnsStatus::mismatch, fmt::format("id {} instead of {}", got_id, id));
    if ((flags & flag_qr) == 0) return fail(a, DnsStatus::mismatch, "a query, not a response");
    if (((flags >> 11) & 0xf) != 0) return fail(a, DnsStatus::mismatch, "opcode is not QUERY");
    a.rcode = static_cast<Rcode>(flags & 0xf);
    a.truncated = (flags & flag_tc) != 0;
    if (qd != 1) return fail(a, DnsStatus::mismatch, fmt::format("{} questions instead of 1", qd));

    std::size_t pos = header_size;
    WireName echoed;
    std::string error;
    std::uint16_t qtype = 0, qclass = 0;
    if (!read_name(message, pos, echoed, error)) return fail(a, DnsStatus::malformed, error);
    WireReader q(message);
    if (!q.skip(pos) || !q.be16(qtype) || !q.be16(qclass))
        return fail(a, DnsStatus::malformed, "the question is cut off");
    pos = q.pos();
    if (echoed != qname || qtype != type_a || qclass != class_in)
        return fail(a, DnsStatus::mismatch,
                    fmt::format("question for {} type {} class {}", to_text(echoed), qtype, qclass));
    a.canonical_name = to_text(qname);
    // RFC 2181 9: a truncated response may hold a partial RRset; the caller asks again over TCP.
    if (a.truncated) {
        a.status = DnsStatus::ok;
        return a;
    }

    // Counts are the sender's claim: grow with the records actually present, not with `an`.
    std::vector<Record> answers;
    for (std::size_t i = 0; i < an; ++i) {
        Record rr;
        if (!read_record(message, pos, rr, error)) return fail(a, DnsStatus::malformed, error);
        answers.push_back(std::move(rr));
    }
    // Authority and additional records are parsed only to prove the message is whole.
    for (std::size_t i = 0; i < std::size_t{ns} + ar; ++i) {
        Record rr;
        if (!read_record(message, pos, rr, error)) return fail(a, DnsStatus::malformed, error);
    }
    if (pos != message.size())
        return fail(a, DnsStatus::malformed, fmt::format("{} bytes after the last record", message.size() - pos));

    WireName target = qname;
    std::uint32_t chain_ttl = std::numeric_limits<std::uint32_t>::max();
    if (!follow_chain(answers, target, chain_ttl, error)) return fail(a, DnsStatus::malformed, error);
    a.canonical_name = to_text(target);
    a.status = DnsStatus::ok;
    if (a.rcode != Rcode::noerror) return a;

    // Only A records for the chain's end count; records for other names answer nothing we asked.
    for (const Record& rr : answers) {
        if (rr.cls != class_in || rr.type != type_a || rr.owner != target) continue;
        const std::uint32_t ttl = std::min(rr.ttl, chain_ttl);
        auto same = std::find_if(a.addresses.begin(), a.addresses.end(),
                                 [&](const Ipv4Ttl& x) { return x.address == rr.ipv4; });
        if (same == a.addresses.end())
            a.addresses.push_back({rr.ipv4, ttl});
        else
            same->ttl = std::min(same->ttl, ttl);
    }
    if (!a.addresses.empty())
        a.min_ttl = std::min_element(a.addresses.begin(), a.addresses.end(), [](const Ipv4Ttl& x, const Ipv4Ttl& y) {
                        return x.ttl < y.ttl;
                    })->ttl;
    return a;
}

bool append_tcp_frame(std::span<const std::uint8_t> message, std::vector<std::uint8_t>& out) {
    if (message.size() > 0xffff) return false;
    out.push_back(static_cast<std::uint8_t>(message.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(message.size() & 0xff));
    out.insert(out.end(), message.begin(), message.end());
    return true;
}

TcpFrame next_tcp_frame(std::span<const std::uint8_t> stream) {
    TcpFrame f;
    if (stream.size() < 2) return f;
    const std::size_t len = (std::size_t{stream[0]} << 8) | stream[1];
    if (len == 0) {
        f.status = FrameStatus::malformed;
        return f;
    }
    if (stream.size() - 2 < len) return f;
    f.status = FrameStatus::ok;
    f.message = stream.subspan(2, len);
    f.consumed = 2 + len;
    return f;
}

}  // namespace modgate::vendors
