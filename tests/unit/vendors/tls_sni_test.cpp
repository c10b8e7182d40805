// The ClientHello reader against real hellos (Python's ssl, openssl s_client) and built ones:
// every truncation, every split, fragmentation across records, the cap, and each way a length,
// an extension or a name can be wrong.
#include "gateway/vendors/tls_sni.hpp"
#include "test_bytes.hpp"

#include <random>

using namespace vendors_test;
using modgate::vendors::ClientHelloReader;
using modgate::vendors::client_hello_cap;
using modgate::vendors::read_client_hello;
using modgate::vendors::SniResult;
using modgate::vendors::SniStatus;

namespace {

// Captured on loopback / through a memory BIO in this repository's build container (Debian 12).
// Python 3.11 ssl (OpenSSL 3.0), TLS 1.3 default context, server_hostname="x.vendor.example"; 517 bytes.
const Buffer py13_sni = hex(
    "1603010200010001fc03032e75edf20886d80fc4dc57eecdc99819131b268ecc6f6322fe46a855ba79247020b3ebb821"
    "7b1bd4495617ae168d639c37d9275e696707fc2b01b481320f82dd1f003e130213031301c02cc030009fcca9cca8ccaa"
    "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff01000175"
    "000000150013000010782e76656e646f722e6578616d706c65000b000403000102000a00160014001d0017001e001900"
    "1801000101010201030104002300000016000000170000000d002a0028040305030603080708080809080a080b080408"
    "050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d"
    "0020ca2611fa2f25494d4bbb70cb966aa2f0b1c1d495c24496815310b6dd469e4810001500bf00000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000"
);

// Python ssl capped at TLS 1.2, server_hostname="X.Vendor.Example" (sent as typed: mixed case); 213 bytes.
const Buffer py12_sni = hex(
    "16030100d0010000cc030373d2dad4845fad95251e59edf5fb235bbdffd2c027fadc060ef7f00e90f70fc4000038c02c"
    "c030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c"
    "0035002f00ff0100006b000000150013000010582e56656e646f722e4578616d706c65000b000403000102000a000c00"
    "0a001d0017001e00190018002300000016000000170000000d002a0028040305030603080708080809080a080b080408"
    "050806040105010601030303010302040205020602"
);

// Python ssl, TLS 1.3, no server_hostname: a valid hello without server_name; 517 bytes.
const Buffer py13_nosni = hex(
    "1603010200010001fc0303f91a6c42b1ba83f67fc5ffdc7c2a564f0de29274cee830566fd39ff2bdec2dbb201599b4f9"
    "a0b05b33ce5235b53812d5e712d5bd67b0f03fff50332781be8421ae003e130213031301c02cc030009fcca9cca8ccaa"
    "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff01000175"
    "000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000016000000170000000d"
    "002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602002b0009"
    "080304030303020301002d00020101003300260024001d00205f2cea2a96a0ac77f2c05b81b0d9c36dbef08ab5e8b441"
    "22155b87f96bd2ee32001500d80000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000"
);

// openssl s_client -servername x.vendor.example -connect 127.0.0.1:PORT (OpenSSL 3.0); 322 bytes.
const Buffer ossl_sni = hex(
    "160301013d0100013903037849c5383afac6d80f3e1c715d3f7497eaee63eec78d914326bf16b9783cc6e1202d51fd7a"
    "9036308f9e3b1d8e332f3196cc4407b724872af36d663b0872f5ca48003e130213031301c02cc030009fcca9cca8ccaa"
    "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000b2"
    "000000150013000010782e76656e646f722e6578616d706c65000b000403000102000a00160014001d0017001e001900"
    "1801000101010201030104002300000016000000170000000d002a0028040305030603080708080809080a080b080408"
    "050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d"
    "0020f3f8ea372b465fc61428c689f28be152555706d6d1f56d91282b64fcf3fc6709"
);

struct Vector {
    const char* name;
    const Buffer* bytes;
    SniStatus status;
    const char* host;
};
const Vector captured[] = {
    {"python tls1.3", &py13_sni, SniStatus::ok, "x.vendor.example"},
    {"python tls1.2 mixed case", &py12_sni, SniStatus::ok, "x.vendor.example"},
    {"python no sni", &py13_nosni, SniStatus::no_sni, ""},
    {"openssl s_client", &ossl_sni, SniStatus::ok, "x.vendor.example"},
};

Buffer record(const Buffer& payload, std::uint8_t type = 0x16, std::uint16_t version = 0x0301) {
    Buffer out{type, static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version & 0xff),
               static_cast<std::uint8_t>(payload.size() >> 8), static_cast<std::uint8_t>(payload.size() & 0xff)};
    return cat(out, payload);
}

// The handshake-layer bytes of a hello that arrived in a single record.
Buffer handshake_of(const Buffer& wire) {
    REQUIRE(wire.size() >= 5);
    REQUIRE(wire[0] == 0x16);
    REQUIRE(wire.size() == 5 + ((std::size_t{wire[3]} << 8) | wire[4]));
    return Buffer(wire.begin() + 5, wire.end());
}

// The same handshake bytes re-framed as records cut at `cuts` (ascending offsets).
Buffer fragment(const Buffer& hs, const std::vector<std::size_t>& cuts) {
    Buffer out;
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        const auto at = [&](std::size_t i) { return hs.begin() + static_cast<std::ptrdiff_t>(i); };
        out = cat(out, record(Buffer(at(from), at(cut))));
        from = cut;
    }
    return cat(out, record(Buffer(hs.begin() + static_cast<std::ptrdiff_t>(from), hs.end())));
}

SniResult feed_in_pieces(const Buffer& wire, const std::vector<std::size_t>& cuts) {
    ClientHelloReader reader;
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        reader.feed(std::span(wire).subspan(from, cut - from));
        from = cut;
    }
    return reader.feed(std::span(wire).subspan(from));
}

void same(const SniResult& got, const SniResult& want) {
    CHECK(to_string(got.status) == std::string(to_string(want.status)));
    CHECK(got.host == want.host);
    CHECK(got.error == want.error);
}

struct Hello {
    std::vector<std::pair<std::uint8_t, std::string>> names{{0, "a.vendor.example"}};
    bool sni = true;
    bool second_sni = false;
    bool extensions = true;
    std::size_t padding = 0;  // bytes in a padding extension (RFC 7685), 0: none
    std::uint16_t version = 0x0303;
    std::uint8_t msg_type = 1;
};

// A ClientHello built field by field. Length fields inside extensions this reader treats as
// opaque are named "opaque ...".
Builder build(const Hello& h) {
    Builder b;
    b.u8(0x16).u16(0x0301).open(2, "record length");
    b.u8(h.msg_type).open(3, "handshake length");
    b.u16(h.version).zeros(32);
    b.open(1, "session id").zeros(32).close();
    b.open(2, "cipher suites").u16(0x1301).u16(0x1302).u16(0xc02f).close();
    b.open(1, "compression methods").u8(0).close();
    if (h.extensions) {
        b.open(2, "extensions");
        b.u16(0x000a).open(2, "supported_groups extension");
        b.open(2, "opaque named group list").u16(0x001d).u16(0x0017).close().close();
        auto sni = [&] {
            b.u16(0x0000).open(2, "server_name extension").open(2, "server_name list");
            for (const auto& [type, name] : h.names) b.u8(type).open(2, "host_name").text(name).close();
            b.close().close();
        };
        if (h.sni) sni();
        b.u16(0x002b).open(2, "supported_versions extension");
        b.open(1, "opaque version list").u16(0x0304).u16(0x0303).close().close();
        if (h.second_sni) sni();
        if (h.padding > 0) b.u16(0x0015).open(2, "padding extension").zeros(h.padding).close();
        b.close();
    }
    b.close().close();
    return b;
}

SniResult read(const Hello& h) { return read_client_hello(build(h).bytes()); }

std::size_t value_of(const Buffer& b, const LengthField& f) {
    std::size_t v = 0;
    for (std::size_t i = 0; i < f.width; ++i) v = (v << 8) | b[f.offset + i];
    return v;
}

// The hello with `extra` after its last extension, the record and handshake lengths grown to
// match, and the extension list's length too when `in_extensions`.
Buffer appended(const Hello& h, const Buffer& extra, bool in_extensions) {
    const Builder b = build(h);
    Buffer out = cat(b.bytes(), extra);
    for (const LengthField& f : b.fields())
        if (f.name == "record length" || f.name == "handshake length" || (in_extensions && f.name == "extensions"))
            Builder::set(out, f.offset, f.width, value_of(out, f) + extra.size());
    return out;
}

}  // namespace

TEST_CASE("captured ClientHellos give their server name", "[tls_sni]") {
    for (const Vector& v : captured) {
        INFO(v.name);
        const SniResult r = read_client_hello(*v.bytes);
        CHECK(r.status == v.status);
        CHECK(r.host == v.host);
        CHECK(r.error.empty());
        CHECK(r.have == v.bytes->size());
        CHECK(r.cap == client_hello_cap);
    }
}

TEST_CASE("every truncation of a valid hello needs more and is never decided", "[tls_sni]") {
    std::vector<Buffer> hellos;
    for (const Vector& v : captured) hellos.push_back(*v.bytes);
    hellos.push_back(build(Hello{.padding = 40}).bytes());
    hellos.push_back(fragment(handshake_of(py12_sni), {1, 4, 100}));
    for (const Buffer& wire : hellos) {
        for (std::size_t n = 0; n < wire.size(); ++n) {
            const SniResult r = read_client_hello(std::span(wire).first(n));
            INFO("truncated at " << n << " of " << wire.size());
            REQUIRE(r.status == SniStatus::need_more);
            REQUIRE(r.have == n);
            REQUIRE(r.host.empty());
        }
    }
}

TEST_CASE("feeding in two pieces, split anywhere, gives the whole answer", "[tls_sni]") {
    for (const Vector& v : captured) {
        INFO(v.name);
        const Buffer& wire = *v.bytes;
        const SniResult whole = read_client_hello(wire);
        for (std::size_t k = 0; k <= wire.size(); ++k) {
            INFO("split at " << k);
            ClientHelloReader reader;
            const SniResult& first = reader.feed(std::span(wire).first(k));
            if (k < wire.size()) REQUIRE(first.status == SniStatus::need_more);
            same(reader.feed(std::span(wire).subspan(k)), whole);
            REQUIRE(reader.buffered().size() == wire.size());
        }
    }
}

TEST_CASE("feeding one byte at a time gives the whole answer", "[tls_sni]") {
    for (const Vector& v : captured) {
        INFO(v.name);
        std::vector<std::size_t> cuts;
        for (std::size_t i = 1; i < v.bytes->size(); ++i) cuts.push_back(i);
        same(feed_in_pieces(*v.bytes, cuts), read_client_hello(*v.bytes));
    }
}

TEST_CASE("a hello fragmented across two records, split anywhere, is read", "[tls_sni]") {
    for (const Vector& v : captured) {
        INFO(v.name);
        const Buffer hs = handshake_of(*v.bytes);
        const SniResult whole = read_client_hello(*v.bytes);
        for (std::size_t k = 1; k < hs.size(); ++k) {
            INFO("record boundary at handshake byte " << k);
            const Buffer wire = fragment(hs, {k});
            const SniResult r = read_client_hello(wire);
            REQUIRE(r.status == whole.status);
            REQUIRE(r.host == whole.host);
            // and fed split inside the second record header, where the reader waits on a header
            same(feed_in_pieces(wire, {k + 5 + 2}), r);
        }
    }
}

TEST_CASE("a hello in one-byte records, and in random records fed in random pieces", "[tls_sni]") {
    const Buffer hs = handshake_of(py13_sni);
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < hs.size(); ++i) every.push_back(i);
    const Buffer tiny = fragment(hs, every);
    CHECK(tiny.size() == 6 * hs.size());
    const SniResult r = read_client_hello(tiny);
    CHECK(r.status == SniStatus::ok);
    CHECK(r.host == "x.vendor.example");

    std::mt19937 rng(20240601);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::size_t> record_cuts;
        for (std::size_t i = 1; i < hs.size(); ++i)
            if (rng() % 64 == 0) record_cuts.push_back(i);
        const Buffer wire = fragment(hs, record_cuts);
        std::vector<std::size_t> feed_cuts;
        for (std::size_t i = 1; i < wire.size(); ++i)
            if (rng() % 50 == 0) feed_cuts.push_back(i);
        const SniResult got = feed_in_pieces(wire, feed_cuts);
        REQUIRE(got.status == SniStatus::ok);
        REQUIRE(got.host == "x.vendor.example");
    }
}

TEST_CASE("bytes after the hello do not change the decision", "[tls_sni]") {
    const Buffer ccs = record(Buffer{1}, 0x14, 0x0303);
    SECTION("a following record") { CHECK(read_client_hello(cat(py13_sni, ccs)).host == "x.vendor.example"); }
    SECTION("trailing handshake bytes in the hello's own record") {
        const Buffer wire = record(cat(handshake_of(py12_sni), Buffer{0x0b, 0, 0}));
        CHECK(read_client_hello(wire).host == "x.vendor.example");
    }
    SECTION("once decided, feed() ignores more and buffered() holds what decided") {
        ClientHelloReader reader;
        CHECK(reader.feed(py13_sni).status == SniStatus::ok);
        CHECK(reader.feed(Buffer{0x15, 0x03, 0x03, 0, 2, 2, 40}).status == SniStatus::ok);
        CHECK(reader.buffered().size() == py13_sni.size());
    }
    SECTION("one feed holding hello and more: everything is buffered for forwarding") {
        ClientHelloReader reader;
        CHECK(reader.feed(cat(py13_sni, ccs)).status == SniStatus::ok);
        CHECK(reader.buffered().size() == py13_sni.size() + ccs.size());
    }
}

TEST_CASE("anything that does not start as a TLS handshake record is not TLS", "[tls_sni]") {
    CHECK(read_client_hello(Buffer{}).status == SniStatus::need_more);
    CHECK(read_client_hello(Buffer{0x16}).status == SniStatus::need_more);
    CHECK(read_client_hello(Buffer{0x16, 0x03}).status == SniStatus::need_more);
    const Buffer not_tls[] = {
        bytes_of("GET / HTTP/1.1\r\nHost: x.vendor.example\r\n\r\n"),
        bytes_of("G"),
        Buffer{0x80, 0x2e, 0x01, 0x00, 0x02},  // SSLv2-compatible hello
        Buffer{0x16, 0x02},                    // version major 2
        Buffer{0x16, 0x00, 0x01, 0x00, 0x01},
        Buffer{0x17, 0x03, 0x03, 0x00, 0x10},  // application data first
        Buffer{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28},
        bytes_of("SSH-2.0-OpenSSH_9.2\r\n"),
    };
    for (const Buffer& b : not_tls) {
        const SniResult r = read_client_hello(b);
        CHECK(r.status == SniStatus::not_tls);
        CHECK_FALSE(r.error.empty());
    }
}

TEST_CASE("record and handshake layer errors", "[tls_sni]") {
    const Buffer hs = handshake_of(py12_sni);
    auto status = [](const Buffer& b) { return read_client_hello(b).status; };
    CHECK(status(record(Buffer{})) == SniStatus::malformed);                                 // empty record
    CHECK(status(cat(Buffer{0x16, 0x03, 0x01, 0x40, 0x01}, Buffer(0x4001, 0))) == SniStatus::malformed);  // > 2^14
    CHECK(status(Buffer{0x16, 0x03, 0x01, 0x40, 0x01}) == SniStatus::malformed);             // known from the header
    CHECK(status(record(Buffer{0x02, 0, 0, 0})) == SniStatus::malformed);                    // ServerHello
    CHECK(status(record(Buffer{0x02})) == SniStatus::malformed);                             // known from one byte
    CHECK(read(Hello{.msg_type = 11}).status == SniStatus::malformed);  // a Certificate first
    // an alert or a record of another version in the middle of the hello
    const Buffer first = record(Buffer(hs.begin(), hs.begin() + 50));
    const Buffer rest(hs.begin() + 50, hs.end());
    CHECK(status(cat(first, record(Buffer{2, 40}, 0x15))) == SniStatus::malformed);
    CHECK(status(cat(first, record(rest, 0x17))) == SniStatus::malformed);
    CHECK(status(cat(first, record(rest, 0x16, 0x0201))) == SniStatus::malformed);
    CHECK(status(cat(first, record(rest, 0x16, 0x0303))) == SniStatus::ok);  // record versions may differ
    // a handshake length that could never fit the cap is refused from its first 9 bytes
    CHECK(status(record(Buffer{1, 0xff, 0xff, 0xff})) == SniStatus::malformed);
    CHECK(status(record(Buffer{1, 0x00, 0x3f, 0xf8})) == SniStatus::malformed);  // 16376 + 9 > 16384
    CHECK(status(record(Buffer{1, 0x00, 0x3f, 0xf7})) == SniStatus::need_more);  // 16375 + 9 fits
}

TEST_CASE("the cap bounds what the reader holds", "[tls_sni]") {
    SECTION("a hello ending exactly at the cap is read, one byte more is refused") {
        const std::size_t base = build(Hello{.padding = 1}).bytes().size() - 1;
        const Buffer at_cap = build(Hello{.padding = client_hello_cap - base}).bytes();
        REQUIRE(at_cap.size() == client_hello_cap);
        CHECK(read_client_hello(at_cap).status == SniStatus::ok);
        const Buffer over = build(Hello{.padding = client_hello_cap - base + 1}).bytes();
        const SniResult r = read_client_hello(over);
        CHECK(r.status == SniStatus::malformed);
        CHECK(r.have == client_hello_cap);
    }
    SECTION("a smaller cap") {
        CHECK(read_client_hello(py13_sni, py13_sni.size()).status == SniStatus::ok);
        CHECK(read_client_hello(py13_sni, py13_sni.size() - 1).status == SniStatus::malformed);
        CHECK(read_client_hello(py13_sni, 100).status == SniStatus::malformed);  // from the hello length
    }
    SECTION("many small records run into the cap") {
        const Buffer hs = handshake_of(py13_sni);
        std::vector<std::size_t> every;
        for (std::size_t i = 1; i < hs.size(); ++i) every.push_back(i);
        const Buffer tiny = fragment(hs, every);
        CHECK(read_client_hello(tiny, tiny.size()).status == SniStatus::ok);
        CHECK(read_client_hello(tiny, tiny.size() - 1).status == SniStatus::malformed);
        // the same, fed byte by byte: refused once the cap is reached, never holding more
        ClientHelloReader reader(tiny.size() - 1);
        for (std::size_t i = 0; i < tiny.size() && !reader.result().done(); ++i)
            reader.feed(std::span(tiny).subspan(i, 1));
        CHECK(reader.result().status == SniStatus::malformed);
        CHECK(reader.buffered().size() <= tiny.size() - 1);
    }
    SECTION("a client that never finishes is refused at the cap") {
        // 1-byte records of a hello claiming 16000 bytes: 6 bytes per byte, so the cap comes first
        const Buffer start = record(Buffer{1});
        ClientHelloReader reader;
        reader.feed(start);
        reader.feed(record(Buffer{0x00}));
        reader.feed(record(Buffer{0x3e}));
        reader.feed(record(Buffer{0x80}));
        REQUIRE(reader.result().status == SniStatus::need_more);
        std::size_t fed = 4 * 6;
        while (!reader.result().done()) {
            reader.feed(record(Buffer{0}));
            fed += 6;
            REQUIRE(fed <= client_hello_cap + 6);
        }
        CHECK(reader.result().status == SniStatus::malformed);
        CHECK(reader.result().have == client_hello_cap);
    }
}

TEST_CASE("a length one larger than its parent allows is refused at every level", "[tls_sni]") {
    const Builder b = build(Hello{.padding = 10});
    const Buffer good = b.bytes();
    REQUIRE(read_client_hello(good).status == SniStatus::ok);
    for (const LengthField& f : b.fields()) {
        INFO(f.name << " at " << f.offset << ", room " << f.room);
        for (std::size_t claim : {f.room + 1, f.room + 1000}) {
            if (claim >= (std::size_t{1} << (8 * f.width))) continue;  // not expressible in the field
            Buffer bad = good;
            Builder::set(bad, f.offset, f.width, claim);
            const SniResult r = read_client_hello(bad);
            if (f.name == "record length") {
                // the stream may still bring these bytes; they follow the hello in its record
                CHECK(r.status == SniStatus::need_more);
                CHECK(read_client_hello(cat(bad, Buffer(claim - f.room, 0))).status == SniStatus::ok);
            } else if (f.name == "handshake length") {
                // the next record may still bring these bytes, but not an alert
                CHECK(r.status == SniStatus::need_more);
                CHECK(read_client_hello(cat(bad, record(Buffer{2, 40}, 0x15))).status == SniStatus::malformed);
                CHECK(read_client_hello(cat(bad, record(Buffer(claim - f.room, 0)))).status == SniStatus::malformed);
            } else if (f.name.starts_with("opaque")) {
                CHECK(r.status == SniStatus::ok);  // inside extensions the server parses, not us
            } else {
                CHECK(r.status == SniStatus::malformed);
                CHECK_FALSE(r.error.empty());
            }
        }
    }
}

TEST_CASE("a length one larger than it was is never read as a name", "[tls_sni]") {
    const Builder b = build(Hello{.padding = 10});
    const Buffer good = b.bytes();
    for (const LengthField& f : b.fields()) {
        if (f.name.starts_with("opaque")) continue;
        INFO(f.name);
        Buffer bad = good;
        Builder::set(bad, f.offset, f.width, value_of(good, f) + 1);
        const SniResult r = read_client_hello(bad);
        CHECK(r.status != SniStatus::ok);
        CHECK(r.status != SniStatus::no_sni);
    }
}

TEST_CASE("ClientHello body errors", "[tls_sni]") {
    CHECK(read(Hello{.version = 0x0200}).status == SniStatus::malformed);
    CHECK(read(Hello{.version = 0x0301}).status == SniStatus::ok);  // legacy_version of TLS 1.0 still parses

    auto patched = [](const char* field, std::size_t value) {
        const Builder b = build(Hello{});
        Buffer bytes = b.bytes();
        for (const LengthField& f : b.fields())
            if (f.name == field) Builder::set(bytes, f.offset, f.width, value);
        return read_client_hello(bytes).status;
    };
    CHECK(patched("cipher suites", 0) == SniStatus::malformed);

    SECTION("session id over 32 bytes") {
        Builder s;
        s.u8(0x16).u16(0x0301).open(2, "r").u8(1).open(3, "h").u16(0x0303).zeros(32);
        s.open(1, "sid").zeros(33).close().u16(2).u16(0x1301).u8(1).u8(0).close().close();
        CHECK(read_client_hello(s.bytes()).status == SniStatus::malformed);
    }
    SECTION("no compression methods") {
        Builder s;
        s.u8(0x16).u16(0x0301).open(2, "r").u8(1).open(3, "h").u16(0x0303).zeros(32);
        s.u8(0).u16(2).u16(0x1301).u8(0).close().close();
        CHECK(read_client_hello(s.bytes()).status == SniStatus::malformed);
    }
    SECTION("a TLS 1.2 hello without extensions has no server name") {
        CHECK(read(Hello{.extensions = false}).status == SniStatus::no_sni);
    }
    SECTION("extensions present but without server_name") {
        CHECK(read(Hello{.sni = false}).status == SniStatus::no_sni);
    }
    SECTION("bytes after the extensions") {
        CHECK(read_client_hello(appended(Hello{}, Buffer{0}, false)).status == SniStatus::malformed);
    }
    SECTION("an extension list ending inside an extension header") {
        CHECK(read_client_hello(appended(Hello{}, Buffer{0x00, 0x15, 0x00}, true)).status == SniStatus::malformed);
        CHECK(read_client_hello(appended(Hello{}, Buffer{0x00, 0x15, 0x00, 0x00}, true)).status == SniStatus::ok);
    }
}

TEST_CASE("server_name extension rules", "[tls_sni]") {
    CHECK(read(Hello{}).host == "a.vendor.example");
    SECTION("duplicate server_name extension") {
        const SniResult r = read(Hello{.second_sni = true});
        CHECK(r.status == SniStatus::malformed);
        CHECK(r.error == "duplicate server_name extension");
    }
    SECTION("two host_name entries") {
        CHECK(read(Hello{.names = {{0, "a.vendor.example"}, {0, "b.vendor.example"}}}).status == SniStatus::malformed);
    }
    SECTION("no host_name entry") {
        CHECK(read(Hello{.names = {{1, "a.vendor.example"}}}).status == SniStatus::malformed);
    }
    SECTION("a host_name beside an entry of another type, either order") {
        CHECK(read(Hello{.names = {{0, "a.vendor.example"}, {1, "x"}}}).status == SniStatus::malformed);
        CHECK(read(Hello{.names = {{1, "x"}, {0, "a.vendor.example"}}}).status == SniStatus::malformed);
    }
    SECTION("an empty list") { CHECK(read(Hello{.names = {}}).status == SniStatus::malformed); }
    SECTION("an empty extension (what a server sends back, never a client)") {
        const Buffer empty_sni{0, 0, 0, 0};
        CHECK(read_client_hello(appended(Hello{.sni = false}, empty_sni, true)).status == SniStatus::malformed);
    }
    SECTION("a list length one short of the extension") {
        CHECK(read_client_hello(appended(Hello{.sni = false}, hex("0000 0006 0004 0000 0178 00"), true)).status ==
              SniStatus::malformed);
        CHECK(read_client_hello(appended(Hello{.sni = false}, hex("0000 0006 0004 0000 0178"), true)).host == "x");
    }
}

TEST_CASE("host names in the hello", "[tls_sni]") {
    const std::string l63(63, 'a');
    const std::string n253 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
    REQUIRE(n253.size() == 253);
    struct Case {
        std::string name;
        SniStatus status;
        const char* host;
    };
    const Case cases[] = {
        {"a.vendor.example", SniStatus::ok, "a.vendor.example"},
        {"A.VENDOR.Example", SniStatus::ok, "a.vendor.example"},
        {"x", SniStatus::ok, "x"},
        {"xn--bcher-kva.example", SniStatus::ok, "xn--bcher-kva.example"},
        {"203.0.113.10", SniStatus::ok, "203.0.113.10"},  // RFC 6066 forbids literals; patterns decide
        {l63 + ".example", SniStatus::ok, ""},
        {n253, SniStatus::ok, ""},
        {std::string(64, 'a') + ".example", SniStatus::malformed, ""},
        {n253 + "b", SniStatus::malformed, ""},
        {"", SniStatus::malformed, ""},
        {"a..vendor.example", SniStatus::malformed, ""},
        {".a.vendor.example", SniStatus::malformed, ""},
        {"a.vendor.example.", SniStatus::malformed, ""},
        {".", SniStatus::malformed, ""},
        {"a_b.vendor.example", SniStatus::malformed, ""},
        {"a b.vendor.example", SniStatus::malformed, ""},
        {"*.vendor.example", SniStatus::malformed, ""},
        {std::string("a\0b.vendor.example", 18), SniStatus::malformed, ""},
        {"a.vendor.example\n", SniStatus::malformed, ""},
        {"b\xc3\xbc" "cher.example", SniStatus::malformed, ""},
        {"-a.vendor.example", SniStatus::malformed, ""},
        {"a-.vendor.example", SniStatus::malformed, ""},
        {"a.vendor.example/evil", SniStatus::malformed, ""},
        {"a.vendor.example:443", SniStatus::malformed, ""},
    };
    for (const Case& c : cases) {
        INFO("name '" << c.name << "'");
        const SniResult r = read(Hello{.names = {{0, c.name}}});
        CHECK(r.status == c.status);
        if (c.status == SniStatus::ok) CHECK(r.host == (*c.host ? std::string(c.host) : c.name));
        if (c.status != SniStatus::ok) CHECK(r.host.empty());
    }
}
