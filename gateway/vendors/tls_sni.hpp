// Reads the server name from a TLS ClientHello before the proxy connects upstream, without
// terminating TLS, and matches it against a vendor's `tls_sni` patterns.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace modgate::vendors {

// The most a client may send before its ClientHello is complete. Real hellos are 200..2000
// bytes (post-quantum key shares included); the cap bounds what an idle or hostile client makes
// the proxy hold before it has decided anything.
inline constexpr std::size_t client_hello_cap = 16 * 1024;

enum class SniStatus : std::uint8_t {
    need_more,  // a prefix of a possible ClientHello: feed more bytes
    not_tls,    // the first record is not a TLS handshake record (type 0x16, version 0x03xx)
    malformed,  // TLS, but not a ClientHello we can trust: refuse the flow
    no_sni,     // a valid ClientHello without a server_name extension
    ok,         // a valid ClientHello naming `host`
};

const char* to_string(SniStatus s);

struct SniResult {
    SniStatus status = SniStatus::need_more;
    std::string host;        // ok: the host_name, lower-cased
    std::string error;       // not_tls and malformed: what was wrong, for the event
    std::size_t have = 0;    // bytes the reader has considered so far
    std::size_t cap = 0;     // the reader's cap; need_more with have == cap never happens
    bool done() const { return status != SniStatus::need_more; }
};

// Incremental: feed() what the client sent so far, in any split. The reader keeps every byte so
// the proxy can forward them upstream once the name is allowed. Work is linear in the input:
// records are consumed once, and the hello body is parsed once, when complete.
class ClientHelloReader {
public:
    explicit ClientHelloReader(std::size_t cap = client_hello_cap);

    // After a decision, further bytes are ignored (the proxy relays them itself).
    const SniResult& feed(std::span<const std::uint8_t> bytes);
    const SniResult& result() const { return result_; }
    std::span<const std::uint8_t> buffered() const { return buffer_; }

private:
    void advance();
    bool take_record();
    void finish(SniStatus status, std::string error);

    std::size_t cap_;
    std::vector<std::uint8_t> buffer_;     // everything fed before the decision
    std::size_t next_record_ = 0;          // offset in buffer_ of the first record not yet consumed
    std::vector<std::uint8_t> handshake_;  // handshake-layer bytes reassembled from the records
    SniResult result_;
};

// One-shot form of the reader: the same answer as feeding `bytes` in any number of pieces.
SniResult read_client_hello(std::span<const std::uint8_t> bytes, std::size_t cap = client_hello_cap);

// Exact patterns compare case-insensitively; `*.d` matches one or more labels before `.d`
// (`a.d`, `a.b.d`) but never `d` itself. A trailing dot on either side is ignored. A name that
// is not a valid host name, or a pattern with any other `*`, matches nothing.
bool sni_matches(std::string_view name, std::string_view pattern);
bool sni_allowed(std::string_view name, const std::vector<std::string>& patterns);

}  // namespace modgate::vendors
