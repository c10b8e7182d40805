// The ClientHello reader: TLS records reassembled into the handshake layer within a cap, then
// one strict parse of the hello body down to the server_name extension; and SNI pattern matching.
#include "gateway/vendors/tls_sni.hpp"

#include "gateway/vendors/host_name.hpp"
#include "gateway/vendors/wire_reader.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace modgate::vendors {

namespace {

constexpr std::uint8_t record_handshake = 0x16;
constexpr std::size_t record_header = 5;
constexpr std::size_t max_record_payload = 1 << 14;  // RFC 8446 5.1: TLSPlaintext.length <= 2^14
constexpr std::size_t handshake_header = 4;          // msg_type(1) length(3)
constexpr std::uint8_t handshake_client_hello = 1;
constexpr std::uint16_t ext_server_name = 0;
constexpr std::uint8_t name_type_host_name = 0;

struct Parsed {
    SniStatus status;
    std::string host;
    std::string error;
};

Parsed bad(std::string error) { return {SniStatus::malformed, {}, std::move(error)}; }

// RFC 6066 3. OpenSSL accepts exactly one entry, of type host_name, and so do we: other name
// types were never defined, and a list the upstream server might read differently from us is
// exactly what an SNI check must not let through.
Parsed parse_server_name(WireReader ext) {
    std::uint16_t list_len = 0;
    WireReader list;
    if (!ext.be16(list_len)) return bad("server_name extension is too short for its list length");
    if (!ext.sub(list_len, list))
        return bad(fmt::format("server_name list claims {} bytes, the extension has {}", list_len, ext.remaining()));
    if (!ext.empty()) return bad("bytes after the server_name list");
    if (list.empty()) return bad("server_name list is empty");

    std::uint8_t type = 0;
    std::uint16_t name_len = 0;
    Bytes name;
    if (!list.u8(type) || !list.be16(name_len)) return bad("server_name entry is truncated");
    if (!list.take(name_len, name))
        return bad(fmt::format("server name claims {} bytes, the list has {}", name_len, list.remaining()));
    if (type != name_type_host_name) return bad(fmt::format("server_name entry of type {}, not host_name", type));
    if (!list.empty()) return bad("server_name list holds more than one entry");

    const std::string_view text(reinterpret_cast<const char*>(name.data()), name.size());
    // RFC 6066 forbids the trailing dot, so it is an empty label here like any other.
    if (!is_host_name(text))
        return bad(fmt::format("server name of {} bytes is not a valid host name", name.size()));
    return {SniStatus::ok, ascii_lower(text), {}};
}

Parsed parse_extensions(WireReader exts) {
    bool seen_sni = false;
    Parsed sni{SniStatus::no_sni, {}, {}};
    while (!exts.empty()) {
        std::uint16_t type = 0;
        std::uint16_t len = 0;
        WireReader ext;
        if (!exts.be16(type) || !exts.be16(len)) return bad("extension list ends inside an extension header");
        if (!exts.sub(len, ext))
            return bad(fmt::format("extension {} claims {} bytes, the list has {}", type, len, exts.remaining()));
        if (type != ext_server_name) continue;
        // Two server names would let the client show us one and the server the other.
        if (seen_sni) return bad("duplicate server_name extension");
        seen_sni = true;
        sni = parse_server_name(ext);
        if (sni.status != SniStatus::ok) return sni;
    }
    return sni;
}

// RFC 8446 4.1.2 / RFC 5246 7.4.1.2; `body` is exactly the handshake message's length.
Parsed parse_client_hello(Bytes body) {
    WireReader r(body);
    std::uint16_t version = 0;
    std::uint8_t session_len = 0;
    std::uint16_t suites_len = 0;
    std::uint8_t compression_len = 0;
    if (!r.be16(version) || !r.skip(32)) return bad("ClientHello ends before its random");
    if ((version >> 8) != 3) return bad(fmt::format("ClientHello version 0x{:04x} is not TLS", version));
    if (!r.u8(session_len) || session_len > 32 || !r.skip(session_len))
        return bad(fmt::format("session id of {} bytes does not fit (max 32, {} left)", session_len, r.remaining()));
    if (!r.be16(suites_len) || !r.skip(suites_len))
        return bad(fmt::format("cipher suites claim {} bytes, the hello has {}", suites_len, r.remaining()));
    if (suites_len < 2 || suites_len % 2 != 0) return bad(fmt::format("cipher suites of {} bytes", suites_len));
    if (!r.u8(compression_len) || !r.skip(compression_len))
        return bad(fmt::format("compression methods claim {} bytes, the hello has {}", compression_len, r.remaining()));
    if (compression_len < 1) return bad("no compression methods");
    // TLS 1.2 lets a hello end here: no extensions, so no server name.
    if (r.empty()) return {SniStatus::no_sni, {}, {}};

    std::uint16_t ext_len = 0;
    WireReader exts;
    if (!r.be16(ext_len)) return bad("ClientHello ends inside the extensions length");
    if (!r.sub(ext_len, exts))
        return bad(fmt::format("extensions claim {} bytes, the hello has {}", ext_len, r.remaining()));
    if (!r.empty()) return bad("bytes after the extensions");
    return parse_extensions(exts);
}

}  // namespace

const char* to_string(SniStatus s) {
    switch (s) {
        case SniStatus::need_more: return "need_more";
        case SniStatus::not_tls: return "not_tls";
        case SniStatus::malformed: return "malformed";
        case SniStatus::no_sni: return "no_sni";
        case SniStatus::ok: return "ok";
    }
    return "?";
}

ClientHelloReader::ClientHelloReader(std::size_t cap) : cap_(cap) { result_.cap = cap; }

const SniResult& ClientHelloReader::feed(std::span<const std::uint8_t> bytes) {
    if (result_.done() || bytes.empty()) return result_;
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    advance();
    return result_;
}

void ClientHelloReader::finish(SniStatus status, std::string error) {
    result_.status = status;
    result_.error = std::move(error);
}

// Bytes beyond the cap are never looked at, so one large feed decides exactly what many small
// ones would.
void ClientHelloReader::advance() {
    const std::size_t visible = std::min(buffer_.size(), cap_);
    result_.have = visible;
    // Decide "not TLS" from the first two bytes so a plain-text client is refused at once.
    if (next_record_ == 0 && visible >= 1 && buffer_[0] != record_handshake)
        return finish(SniStatus::not_tls, fmt::format("first record has type 0x{:02x}, not handshake", buffer_[0]));
    if (next_record_ == 0 && visible >= 2 && buffer_[1] != 0x03)
        return finish(SniStatus::not_tls, fmt::format("first record has version major 0x{:02x}", buffer_[1]));

    while (take_record()) {
        if (handshake_.size() >= 1 && handshake_[0] != handshake_client_hello)
            return finish(SniStatus::malformed,
                          fmt::format("first handshake message has type {}, not ClientHello", handshake_[0]));
        if (handshake_.size() < handshake_header) continue;
        const std::size_t body_len = (std::size_t{handshake_[1]} << 16) | (std::size_t{handshake_[2]} << 8) |
                                     std::size_t{handshake_[3]};
        // At least one record header precedes the message: refuse now what can never fit.
        if (record_header + handshake_header + body_len > cap_)
            return finish(SniStatus::malformed, fmt::format("ClientHello of {} bytes exceeds the {} byte cap",
                                                            body_len, cap_));
        if (handshake_.size() < handshake_header + body_len) continue;
        // Anything after the hello in its record is not ours to judge; the server will.
        Parsed p = parse_client_hello(Bytes(handshake_).subspan(handshake_header, body_len));
        result_.host = std::move(p.host);
        return finish(p.status, std::move(p.error));
    }
    if (!result_.done() && visible >= cap_)
        finish(SniStatus::malformed, fmt::format("no complete ClientHello in the first {} bytes", cap_));
}

// Consumes one whole record inside the cap into handshake_; false when none is complete yet or
// when the record decided the result.
bool ClientHelloReader::take_record() {
    if (result_.done()) return false;
    const std::size_t visible = std::min(buffer_.size(), cap_);
    if (visible - next_record_ < record_header) return false;
    const std::uint8_t* h = buffer_.data() + next_record_;
    const std::size_t len = (std::size_t{h[3]} << 8) | h[4];
    if (h[0] != record_handshake) {
        finish(SniStatus::malformed, fmt::format("record of type 0x{:02x} inside the ClientHello", h[0]));
        return false;
    }
    if (h[1] != 0x03) {
        finish(SniStatus::malformed, fmt::format("record version major 0x{:02x}", h[1]));
        return false;
    }
    // RFC 8446 5.1: handshake records are never empty, and none exceeds 2^14.
    if (len == 0 || len > max_record_payload) {
        finish(SniStatus::malformed, fmt::format("handshake record of {} bytes", len));
        return false;
    }
    if (next_record_ + record_header + len > cap_) {
        finish(SniStatus::malformed, fmt::format("record ends beyond the {} byte cap", cap_));
        return false;
    }
    if (visible - next_record_ - record_header < len) return false;
    handshake_.insert(handshake_.end(), h + record_header, h + record_header + len);
    next_record_ += record_header + len;
    return true;
}

SniResult read_client_hello(std::span<const std::uint8_t> bytes, std::size_t cap) {
    ClientHelloReader reader(cap);
    return reader.feed(bytes);
}

bool sni_matches(std::string_view name, std::string_view pattern) {
    name = strip_trailing_dot(name);
    pattern = strip_trailing_dot(pattern);
    if (!is_host_name(name)) return false;
    if (pattern.starts_with("*.")) {
        const std::string_view domain = pattern.substr(2);
        if (!is_host_name(domain)) return false;
        // One or more whole labels before ".domain": "xdomain" and "domain" itself do not match.
        if (name.size() < domain.size() + 2) return false;
        const std::size_t dot = name.size() - domain.size() - 1;
        return name[dot] == '.' && iequals(name.substr(dot + 1), domain);
    }
    return is_host_name(pattern) && iequals(name, pattern);
}

bool sni_allowed(std::string_view name, const std::vector<std::string>& patterns) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& p) { return sni_matches(name, p); });
}

}  // namespace modgate::vendors
