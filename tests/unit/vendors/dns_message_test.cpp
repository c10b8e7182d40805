// The DNS A-query codec against responses captured from dnsmasq and hand-built ones: compression,
// CNAME chains and loops, rcodes, mismatches, TC, every truncation, hostile pointers and labels,
// and the TCP framing.
#include "gateway/vendors/dns_message.hpp"
#include "test_bytes.hpp"

#include <functional>
#include <optional>

using namespace vendors_test;
using namespace modgate::vendors;

namespace {

// Captured from dnsmasq 2.89 on 127.0.0.1 (--local-ttl=300, --address=/remote.vendor.example/
// 203.0.113.10, --host-record=remote2.vendor.example,203.0.113.11, --cname=alias.vendor.example,
// remote2.vendor.example,600, --address=/gone.vendor.example/), queried with RD set.
const Buffer query_remote = hex("1234010000010000000000000672656d6f74650676656e646f72076578616d706c650000010001");
const Buffer dnsmasq_a = hex(
    "1234858000010001000000000672656d6f74650676656e646f72076578616d706c650000010001c00c000100010000012c0004cb00"
    "710a");
const Buffer dnsmasq_cname = hex(
    "23458580000100020000000005616c6961730676656e646f72076578616d706c650000010001c00c000500010000025800180772656d"
    "6f7465320676656e646f72076578616d706c6500c032000100010000012c0004cb00710b");
const Buffer dnsmasq_nxdomain = hex("34568183000100000000000004676f6e650676656e646f72076578616d706c650000010001");
const Buffer dnsmasq_refused = hex("456781850001000000000000056f74686572076578616d706c650000010001");
// queried as "Remote.VENDOR.example": the echo keeps the query's case
const Buffer dnsmasq_mixed = hex(
    "5678858000010001000000000652656d6f74650656454e444f52076578616d706c650000010001c00c000100010000012c0004cb00"
    "710a");

constexpr std::uint32_t ip(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

constexpr std::uint16_t flags_ok = 0x8180;  // QR RD RA, NOERROR
constexpr std::uint16_t type_a = 1, type_ns = 2, type_cname = 5, type_soa = 6, type_opt = 41, type_aaaa = 28;

void header(Builder& b, std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an, std::uint16_t ns = 0,
            std::uint16_t ar = 0) {
    b.u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
}

// Labels of `dotted`, then a pointer to `ptr` or the root label.
void name(Builder& b, std::string_view dotted, std::optional<std::size_t> ptr = std::nullopt) {
    while (!dotted.empty()) {
        const std::size_t dot = std::min(dotted.find('.'), dotted.size());
        b.u8(dot).text(dotted.substr(0, dot));
        dotted.remove_prefix(std::min(dot + 1, dotted.size()));
    }
    if (ptr)
        b.u16(0xc000 | *ptr);
    else
        b.u8(0);
}

void question(Builder& b, std::string_view qname, std::uint16_t type = type_a) {
    name(b, qname);
    b.u16(type).u16(1);
}

void rr(Builder& b, std::uint16_t type, std::uint32_t ttl, const std::function<void(Builder&)>& rdata,
        std::uint16_t cls = 1) {
    b.u16(type).u16(cls).u32(ttl).open(2, "rdlength");
    rdata(b);
    b.close();
}

auto a_rdata(std::uint32_t addr) {
    return [addr](Builder& b) { b.u32(addr); };
}
auto name_rdata(std::string dotted, std::optional<std::size_t> ptr = std::nullopt) {
    return [dotted, ptr](Builder& b) { name(b, dotted, ptr); };
}

// "alias.vendor.example" -> CNAME "mid.vendor.example" -> CNAME "remote.vendor.example" -> two A,
// every name compressed against the question's "vendor.example" at offset 18.
Builder chain_response(std::uint32_t ttl_alias = 600, std::uint32_t ttl_mid = 120, std::uint32_t ttl_a = 300) {
    Builder b;
    header(b, 7, flags_ok, 1, 4);
    question(b, "alias.vendor.example");  // "vendor.example" starts at 12 + 6 = 18
    name(b, "", 12);
    rr(b, type_cname, ttl_alias, name_rdata("mid", 18));
    const std::size_t mid = b.size() - 6;  // "mid" label inside that rdata
    name(b, "", mid);
    rr(b, type_cname, ttl_mid, name_rdata("remote", 18));
    const std::size_t remote = b.size() - 9;
    name(b, "", remote);
    rr(b, type_a, ttl_a, a_rdata(ip(203, 0, 113, 10)));
    name(b, "", remote);
    rr(b, type_a, ttl_a + 100, a_rdata(ip(203, 0, 113, 11)));
    return b;
}

// A chain c0 -> c1 -> ... -> c<hops> and an A record for the last name.
Buffer chain_of(std::size_t hops) {
    Builder b;
    header(b, 9, flags_ok, 1, static_cast<std::uint16_t>(hops + 1));
    question(b, "c0.vendor.example");
    for (std::size_t i = 0; i < hops; ++i) {
        name(b, "c" + std::to_string(i) + ".vendor.example");
        rr(b, type_cname, 60, name_rdata("c" + std::to_string(i + 1) + ".vendor.example"));
    }
    name(b, "c" + std::to_string(hops) + ".vendor.example");
    rr(b, type_a, 60, a_rdata(ip(192, 0, 2, 1)));
    return b.bytes();
}

DnsAnswer decode(const Buffer& m, std::uint16_t id, std::string_view qname) { return decode_a_response(m, id, qname); }

}  // namespace

TEST_CASE("encode_a_query", "[dns]") {
    const DnsQuery q = encode_a_query(0x1234, "remote.vendor.example");
    REQUIRE(q.ok);
    CHECK(q.bytes == query_remote);  // the bytes dnsmasq answered above
    CHECK(encode_a_query(0x1234, "remote.vendor.example.").bytes == query_remote);
    CHECK(encode_a_query(0x1234, "Remote.Vendor.EXAMPLE").bytes == query_remote);
    CHECK(encode_a_query(0xffff, "x").bytes == hex("ffff01000001000000000000 017800 00010001"));

    const std::string l63(63, 'a');
    const std::string n253 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
    const DnsQuery longest = encode_a_query(1, n253);
    REQUIRE(longest.ok);
    CHECK(longest.bytes.size() == 12 + 255 + 4);  // the 255-byte wire limit exactly

    for (const std::string& bad : {std::string(""), std::string("."), std::string("a..b"), std::string(".a"),
                                   std::string("a.."), std::string("a_b.example"), std::string("a b"),
                                   std::string(64, 'a'), n253 + "b", std::string("-a.example"),
                                   std::string("*.vendor.example"), std::string("a\0b", 3)}) {
        INFO("'" << bad << "'");
        const DnsQuery r = encode_a_query(1, bad);
        CHECK_FALSE(r.ok);
        CHECK(r.bytes.empty());
        CHECK_FALSE(r.error.empty());
    }
}

TEST_CASE("responses captured from dnsmasq", "[dns]") {
    SECTION("an A record") {
        const DnsAnswer a = decode(dnsmasq_a, 0x1234, "remote.vendor.example");
        CHECK(a.status == DnsStatus::ok);
        CHECK(a.rcode == Rcode::noerror);
        CHECK_FALSE(a.truncated);
        CHECK(a.addresses == std::vector<Ipv4Ttl>{{0xcb00710a, 300}});
        CHECK(a.min_ttl == 300);
        CHECK(a.canonical_name == "remote.vendor.example");
        CHECK(a.error.empty());
    }
    SECTION("a CNAME to a host record: the chain's TTL is the shorter one") {
        const DnsAnswer a = decode(dnsmasq_cname, 0x2345, "alias.vendor.example");
        CHECK(a.status == DnsStatus::ok);
        CHECK(a.addresses == std::vector<Ipv4Ttl>{{ip(203, 0, 113, 11), 300}});
        CHECK(a.canonical_name == "remote2.vendor.example");
    }
    SECTION("NXDOMAIN") {
        const DnsAnswer a = decode(dnsmasq_nxdomain, 0x3456, "gone.vendor.example");
        CHECK(a.status == DnsStatus::ok);
        CHECK(a.rcode == Rcode::nxdomain);
        CHECK(a.addresses.empty());
        CHECK(a.min_ttl == 0);
    }
    SECTION("REFUSED") {
        const DnsAnswer a = decode(dnsmasq_refused, 0x4567, "other.example");
        CHECK(a.status == DnsStatus::ok);
        CHECK(a.rcode == Rcode::refused);
        CHECK(to_string(a.rcode) == "REFUSED");
    }
    SECTION("the question echoed in another case") {
        CHECK(decode(dnsmasq_mixed, 0x5678, "remote.vendor.example").addresses.size() == 1);
        CHECK(decode(dnsmasq_mixed, 0x5678, "REMOTE.vendor.example.").addresses.size() == 1);
    }
}

TEST_CASE("responses that are not for our query are mismatches", "[dns]") {
    auto status = [](const Buffer& m, std::uint16_t id, std::string_view n) { return decode(m, id, n).status; };
    CHECK(status(dnsmasq_a, 0x1235, "remote.vendor.example") == DnsStatus::mismatch);
    CHECK(status(dnsmasq_a, 0x1234, "remote2.vendor.example") == DnsStatus::mismatch);
    CHECK(status(dnsmasq_a, 0x1234, "emote.vendor.example") == DnsStatus::mismatch);
    CHECK(status(dnsmasq_a, 0x1234, "not a name") == DnsStatus::mismatch);
    CHECK(status(query_remote, 0x1234, "remote.vendor.example") == DnsStatus::mismatch);  // QR clear

    auto patched = [](std::size_t at, std::uint8_t value) {
        Buffer m = dnsmasq_a;
        m[at] = value;
        return decode(m, 0x1234, "remote.vendor.example");
    };
    CHECK(patched(2, 0x85 | 0x08).status == DnsStatus::mismatch);  // opcode 1 (IQUERY)
    CHECK(patched(2, 0x85 | 0x20).status == DnsStatus::mismatch);  // opcode 4 (NOTIFY)
    CHECK(patched(5, 0).status == DnsStatus::mismatch);            // no question
    CHECK(patched(5, 2).status == DnsStatus::mismatch);            // two questions
    CHECK(patched(36, 28).status == DnsStatus::mismatch);          // QTYPE AAAA
    CHECK(patched(38, 3).status == DnsStatus::mismatch);           // QCLASS CH

    Builder b;
    header(b, 1, 0x8182, 0, 0);  // SERVFAIL without a question: cannot be tied to our name
    CHECK(decode(b.bytes(), 1, "x.example").status == DnsStatus::mismatch);
}

TEST_CASE("rcodes are reported", "[dns]") {
    for (std::uint16_t rcode = 0; rcode < 16; ++rcode) {
        Builder b;
        header(b, 3, static_cast<std::uint16_t>(0x8180 | rcode), 1, 1);
        question(b, "remote.vendor.example");
        name(b, "", 12);
        rr(b, type_a, 30, a_rdata(ip(10, 0, 0, 1)));
        const DnsAnswer a = decode(b.bytes(), 3, "remote.vendor.example");
        INFO("rcode " << rcode);
        CHECK(a.status == DnsStatus::ok);
        CHECK(static_cast<std::uint16_t>(a.rcode) == rcode);
        CHECK(a.addresses.size() == (rcode == 0 ? 1u : 0u));  // addresses only with NOERROR
    }
    CHECK(to_string(Rcode::noerror) == "NOERROR");
    CHECK(to_string(Rcode::servfail) == "SERVFAIL");
    CHECK(to_string(Rcode::nxdomain) == "NXDOMAIN");
    CHECK(to_string(static_cast<Rcode>(11)) == "RCODE11");
}

TEST_CASE("CNAME chains", "[dns]") {
    SECTION("followed through compressed names; TTL is the minimum along the chain") {
        const DnsAnswer a = decode(chain_response().bytes(), 7, "alias.vendor.example");
        REQUIRE(a.status == DnsStatus::ok);
        CHECK(a.canonical_name == "remote.vendor.example");
        CHECK(a.addresses == std::vector<Ipv4Ttl>{{ip(203, 0, 113, 10), 120}, {ip(203, 0, 113, 11), 120}});
        CHECK(a.min_ttl == 120);
        const DnsAnswer b = decode(chain_response(600, 900, 30).bytes(), 7, "alias.vendor.example");
        CHECK(b.addresses == std::vector<Ipv4Ttl>{{ip(203, 0, 113, 10), 30}, {ip(203, 0, 113, 11), 130}});
        CHECK(b.min_ttl == 30);
    }
    SECTION("up to the bound, and not one hop more") {
        const DnsAnswer ok = decode(chain_of(max_cname_chain), 9, "c0.vendor.example");
        CHECK(ok.status == DnsStatus::ok);
        CHECK(ok.canonical_name == "c" + std::to_string(max_cname_chain) + ".vendor.example");
        CHECK(ok.addresses.size() == 1);
        const DnsAnswer too_long = decode(chain_of(max_cname_chain + 1), 9, "c0.vendor.example");
        CHECK(too_long.status == DnsStatus::malformed);
        CHECK(too_long.addresses.empty());
    }
    SECTION("loops") {
        Builder b;
        header(b, 9, flags_ok, 1, 3);
        question(b, "c0.vendor.example");
        name(b, "c0.vendor.example");
        rr(b, type_cname, 60, name_rdata("c1.vendor.example"));
        name(b, "c1.vendor.example");
        rr(b, type_cname, 60, name_rdata("C0.vendor.example"));  // back to the start, other case
        name(b, "c1.vendor.example");
        rr(b, type_a, 60, a_rdata(ip(192, 0, 2, 1)));
        const DnsAnswer a = decode(b.bytes(), 9, "c0.vendor.example");
        CHECK(a.status == DnsStatus::malformed);
        CHECK(a.error.find("loop") != std::string::npos);

        Builder self;
        header(self, 9, flags_ok, 1, 1);
        question(self, "c0.vendor.example");
        name(self, "", 12);
        rr(self, type_cname, 60, name_rdata("", 12));
        CHECK(decode(self.bytes(), 9, "c0.vendor.example").status == DnsStatus::malformed);
    }
    SECTION("two CNAMEs for one name") {
        Builder b;
        header(b, 9, flags_ok, 1, 3);
        question(b, "c0.vendor.example");
        name(b, "", 12);
        rr(b, type_cname, 60, name_rdata("c1.vendor.example"));
        name(b, "", 12);
        rr(b, type_cname, 60, name_rdata("c2.vendor.example"));
        name(b, "c1.vendor.example");
        rr(b, type_a, 60, a_rdata(ip(192, 0, 2, 1)));
        CHECK(decode(b.bytes(), 9, "c0.vendor.example").status == DnsStatus::malformed);
    }
    SECTION("a CNAME with NXDOMAIN: the chain's end does not exist") {
        Builder b;
        header(b, 9, 0x8183, 1, 1);
        question(b, "c0.vendor.example");
        name(b, "", 12);
        rr(b, type_cname, 60, name_rdata("gone.example"));
        const DnsAnswer a = decode(b.bytes(), 9, "c0.vendor.example");
        CHECK(a.status == DnsStatus::ok);
        CHECK(a.rcode == Rcode::nxdomain);
        CHECK(a.canonical_name == "gone.example");
        CHECK(a.addresses.empty());
    }
    SECTION("a CNAME chain ending without an A record is NODATA") {
        Builder b;
        header(b, 9, flags_ok, 1, 1);
        question(b, "c0.vendor.example");
        name(b, "", 12);
        rr(b, type_cname, 60, name_rdata("c1.vendor.example"));
        const DnsAnswer a = decode(b.bytes(), 9, "c0.vendor.example");
        CHECK(a.status == DnsStatus::ok);
        CHECK(a.addresses.empty());
        CHECK(a.min_ttl == 0);
    }
}

TEST_CASE("which answer records count", "[dns]") {
    Builder b;
    header(b, 5, flags_ok, 1, 8, 1, 1);
    question(b, "remote.vendor.example");
    name(b, "", 12);
    rr(b, type_a, 300, a_rdata(ip(203, 0, 113, 10)));
    name(b, "", 12);
    rr(b, type_a, 100, a_rdata(ip(203, 0, 113, 10)));  // a duplicate: merged, shorter TTL kept
    name(b, "evil.example");
    rr(b, type_a, 300, a_rdata(ip(198, 51, 100, 66)));  // another name: answers nothing we asked
    name(b, "vendor.example");
    rr(b, type_a, 300, a_rdata(ip(198, 51, 100, 67)));
    name(b, "", 12);
    rr(b, type_a, 300, a_rdata(ip(198, 51, 100, 68)), 3);  // class CH
    name(b, "", 12);
    rr(b, type_aaaa, 300, [](Builder& x) { x.u32(0x20010db8).u32(0).u32(0).u32(1); });
    name(b, "", 12);
    rr(b, type_a, 0x80000000u, a_rdata(ip(203, 0, 113, 12)));  // top bit set: TTL 0 (RFC 2181 8)
    name(b, "", 12);
    rr(b, type_a, 0x7fffffffu, a_rdata(ip(203, 0, 113, 13)));
    name(b, "vendor.example");
    rr(b, type_ns, 300, name_rdata("ns.vendor.example"));
    name(b, "");
    b.u16(type_opt).u16(1232).u32(0).u16(0);  // EDNS OPT in the additional section
    const DnsAnswer a = decode(b.bytes(), 5, "remote.vendor.example");
    REQUIRE(a.status == DnsStatus::ok);
    CHECK(a.addresses == std::vector<Ipv4Ttl>{{ip(203, 0, 113, 10), 100}, {ip(203, 0, 113, 12), 0},
                                              {ip(203, 0, 113, 13), 0x7fffffffu}});
    CHECK(a.min_ttl == 0);
}

TEST_CASE("the truncated flag", "[dns]") {
    Builder b;
    header(b, 4, 0x8380, 1, 20);  // TC, and 20 answers that did not fit
    question(b, "remote.vendor.example");
    name(b, "", 12);
    rr(b, type_a, 300, a_rdata(ip(203, 0, 113, 10)));
    const Buffer full = b.bytes();
    const Buffer cut(full.begin(), full.end() - 3);
    const DnsAnswer a = decode(cut, 4, "remote.vendor.example");
    CHECK(a.status == DnsStatus::ok);
    CHECK(a.truncated);
    CHECK(a.addresses.empty());  // a partial RRset is never used: ask again over TCP
    // the question must still be whole
    CHECK(decode(Buffer(cut.begin(), cut.begin() + 30), 4, "remote.vendor.example").status == DnsStatus::malformed);
}

TEST_CASE("every truncation of a response is malformed, never an answer", "[dns]") {
    struct Whole {
        Buffer bytes;
        std::uint16_t id;
        const char* name;
    };
    const Whole wholes[] = {
        {dnsmasq_a, 0x1234, "remote.vendor.example"},
        {dnsmasq_cname, 0x2345, "alias.vendor.example"},
        {dnsmasq_nxdomain, 0x3456, "gone.vendor.example"},
        {chain_response().bytes(), 7, "alias.vendor.example"},
        {chain_of(3), 9, "c0.vendor.example"},
    };
    for (const Whole& w : wholes) {
        REQUIRE(decode(w.bytes, w.id, w.name).status == DnsStatus::ok);
        for (std::size_t n = 0; n < w.bytes.size(); ++n) {
            INFO(w.name << " cut at " << n << " of " << w.bytes.size());
            const DnsAnswer a = decode(Buffer(w.bytes.begin(), w.bytes.begin() + static_cast<std::ptrdiff_t>(n)), w.id,
                                       w.name);
            REQUIRE(a.status == DnsStatus::malformed);
            REQUIRE(a.addresses.empty());
            REQUIRE_FALSE(a.error.empty());
        }
        Buffer longer = w.bytes;
        longer.push_back(0);
        CHECK(decode(longer, w.id, w.name).status == DnsStatus::malformed);  // a byte after the last record
    }
}

TEST_CASE("an rdlength one larger than its parent is refused", "[dns]") {
    const Builder b = chain_response();
    const Buffer good = b.bytes();
    for (const LengthField& f : b.fields()) {
        INFO(f.name << " at " << f.offset);
        for (std::size_t claim : {f.room + 1, std::size_t{0xffff}}) {
            Buffer bad = good;
            Builder::set(bad, f.offset, f.width, claim);
            CHECK(decode(bad, 7, "alias.vendor.example").status == DnsStatus::malformed);
        }
    }
}

TEST_CASE("record data must be exactly what its type needs", "[dns]") {
    auto with_answer = [](std::uint16_t type, const std::function<void(Builder&)>& rdata) {
        Builder b;
        header(b, 2, flags_ok, 1, 1);
        question(b, "remote.vendor.example");
        name(b, "", 12);
        rr(b, type, 60, rdata);
        return decode(b.bytes(), 2, "remote.vendor.example").status;
    };
    CHECK(with_answer(type_a, [](Builder& b) { b.u32(1); }) == DnsStatus::ok);
    CHECK(with_answer(type_a, [](Builder& b) { b.u24(1); }) == DnsStatus::malformed);
    CHECK(with_answer(type_a, [](Builder& b) { b.u32(1).u8(0); }) == DnsStatus::malformed);
    CHECK(with_answer(type_a, [](Builder&) {}) == DnsStatus::malformed);
    CHECK(with_answer(type_cname, name_rdata("x.example")) == DnsStatus::ok);
    CHECK(with_answer(type_cname, [](Builder& b) { name(b, "x.example"); b.u8(0); }) == DnsStatus::malformed);
    CHECK(with_answer(type_cname, [](Builder& b) { b.u8(1).text("x"); }) == DnsStatus::malformed);  // no root label
    CHECK(with_answer(type_cname, [](Builder&) {}) == DnsStatus::malformed);
    CHECK(with_answer(type_soa, [](Builder& b) { b.u8(0); }) == DnsStatus::ok);  // other types are opaque
}

TEST_CASE("compression pointers", "[dns]") {
    auto answer_named = [](const std::function<void(Builder&)>& owner) {
        Builder b;
        header(b, 6, flags_ok, 1, 1);
        question(b, "remote.vendor.example");
        owner(b);
        rr(b, type_a, 60, a_rdata(ip(192, 0, 2, 7)));
        return decode(b.bytes(), 6, "remote.vendor.example");
    };
    auto status = [&](const std::function<void(Builder&)>& owner) { return answer_named(owner).status; };
    const std::size_t answer_at = 12 + 23 + 4;  // header, "remote.vendor.example", type and class

    CHECK(answer_named([](Builder& b) { name(b, "", 12); }).addresses.size() == 1);
    CHECK(answer_named([](Builder& b) { name(b, "remote", 19); }).addresses.size() == 1);  // "vendor.example"
    SECTION("a pointer to a pointer") {
        Builder b;
        header(b, 6, flags_ok, 1, 2);
        question(b, "remote.vendor.example");
        const std::size_t first = b.size();
        name(b, "", 12);
        rr(b, type_a, 60, a_rdata(ip(192, 0, 2, 7)));
        name(b, "", first);
        rr(b, type_a, 60, a_rdata(ip(192, 0, 2, 8)));
        CHECK(decode(b.bytes(), 6, "remote.vendor.example").addresses.size() == 2);
    }
    SECTION("loops and forward pointers") {
        CHECK(status([&](Builder& b) { name(b, "", answer_at); }) == DnsStatus::malformed);         // to itself
        CHECK(status([&](Builder& b) { name(b, "a", answer_at); }) == DnsStatus::malformed);        // to its own start
        CHECK(status([&](Builder& b) { name(b, "", answer_at + 2); }) == DnsStatus::malformed);     // forward
        CHECK(status([&](Builder& b) { name(b, "", 0x3fff); }) == DnsStatus::malformed);            // past the end
        CHECK(status([&](Builder& b) { name(b, "", 0); }) == DnsStatus::malformed);                 // into the header
        CHECK(status([&](Builder& b) { name(b, "", 11); }) == DnsStatus::malformed);
        CHECK(status([&](Builder& b) { b.u8(0xc0); }) == DnsStatus::malformed);                     // cut in half
    }
    SECTION("two names pointing at each other") {
        // the answer's owner points to the CNAME target behind it, which points back
        Builder b;
        header(b, 6, flags_ok, 1, 1);
        question(b, "remote.vendor.example");
        const std::size_t owner = b.size();
        name(b, "", owner + 12);  // forward, to the rdata below
        b.u16(type_cname).u16(1).u32(60).u16(2);
        name(b, "", owner);
        CHECK(decode(b.bytes(), 6, "remote.vendor.example").status == DnsStatus::malformed);
    }
    SECTION("a pointer cycle through labels that each point backwards") {
        // labels at L then a pointer back to L: backwards, yet a loop; refused because the pointer
        // does not point before the stretch of labels it ends
        CHECK(status([&](Builder& b) { name(b, "x.y", answer_at); }) == DnsStatus::malformed);
        Builder b;
        header(b, 6, flags_ok, 1, 1);
        question(b, "remote.vendor.example");
        name(b, "", 12);
        b.u16(type_cname).u16(1).u32(60).open(2, "rdlength");
        const std::size_t target = b.size();
        name(b, "a", target);  // "a" then a pointer to the "a" label itself
        b.close();
        CHECK(decode(b.bytes(), 6, "remote.vendor.example").status == DnsStatus::malformed);
    }
}

TEST_CASE("labels and name lengths", "[dns]") {
    auto status = [](const std::function<void(Builder&)>& owner) {
        Builder b;
        header(b, 6, flags_ok, 1, 1);
        question(b, "remote.vendor.example");
        owner(b);
        rr(b, type_a, 60, a_rdata(ip(192, 0, 2, 7)));
        return decode(b.bytes(), 6, "remote.vendor.example").status;
    };
    const std::string l63(63, 'a');
    // 3 labels of 63 and one of 61, with their length bytes and the root: 255; one more is 256
    CHECK(status([&](Builder& b) { name(b, l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b')); }) ==
          DnsStatus::ok);
    CHECK(status([&](Builder& b) { name(b, l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b')); }) ==
          DnsStatus::malformed);
    // the same limit across a pointer: 3 * 64 + 40 bytes of labels in front of the 23 of
    // "remote.vendor.example" make 255, one more is too long
    CHECK(status([&](Builder& b) { name(b, l63 + "." + l63 + "." + l63 + "." + std::string(39, 'c'), 12); }) ==
          DnsStatus::ok);
    CHECK(status([&](Builder& b) { name(b, l63 + "." + l63 + "." + l63 + "." + std::string(40, 'c'), 12); }) ==
          DnsStatus::malformed);
    CHECK(status([&](Builder& b) { b.u8(0x40).text("a").u8(0); }) == DnsStatus::malformed);  // 64: extended type
    CHECK(status([&](Builder& b) { b.u8(0x80).text("a").u8(0); }) == DnsStatus::malformed);  // reserved type
    CHECK(status([&](Builder& b) { b.u8(0x7f).text("a").u8(0); }) == DnsStatus::malformed);
    // hostile bytes in a label are compared, never interpreted: "a.b" as one label is not a.b
    CHECK(status([&](Builder& b) { b.u8(3).text("a.b").u8(0); }) == DnsStatus::ok);
}

TEST_CASE("a label with a dot is not two labels", "[dns]") {
    Builder b;
    header(b, 8, flags_ok, 1, 1);
    b.u8(10).text("remote.ven").u8(8).text("dor.exam").u8(0).u16(1).u16(1);
    name(b, "", 12);
    rr(b, type_a, 60, a_rdata(ip(192, 0, 2, 9)));
    CHECK(decode(b.bytes(), 8, "remote.vendor.example").status == DnsStatus::mismatch);
}

TEST_CASE("TCP framing", "[dns]") {
    Buffer stream;
    REQUIRE(append_tcp_frame(query_remote, stream));
    REQUIRE(append_tcp_frame(dnsmasq_a, stream));
    CHECK(stream.size() == 4 + query_remote.size() + dnsmasq_a.size());
    CHECK(stream[0] == 0);
    CHECK(stream[1] == query_remote.size());

    const TcpFrame first = next_tcp_frame(stream);
    REQUIRE(first.status == FrameStatus::ok);
    CHECK(Buffer(first.message.begin(), first.message.end()) == query_remote);
    CHECK(first.consumed == 2 + query_remote.size());
    const TcpFrame second = next_tcp_frame(std::span(stream).subspan(first.consumed));
    REQUIRE(second.status == FrameStatus::ok);
    CHECK(Buffer(second.message.begin(), second.message.end()) == dnsmasq_a);

    for (std::size_t n = 0; n < 2 + query_remote.size(); ++n) {
        INFO("cut at " << n);
        const TcpFrame f = next_tcp_frame(std::span(stream).first(n));
        CHECK(f.status == FrameStatus::need_more);
        CHECK(f.consumed == 0);
    }
    CHECK(next_tcp_frame(Buffer{0, 0, 1}).status == FrameStatus::malformed);

    Buffer out{9};
    CHECK(append_tcp_frame(Buffer(0xffff, 1), out));
    CHECK(out.size() == 1 + 2 + 0xffff);
    CHECK(next_tcp_frame(std::span(out).subspan(1)).consumed == 2 + 0xffff);
    Buffer untouched{9};
    CHECK_FALSE(append_tcp_frame(Buffer(0x10000, 1), untouched));
    CHECK(untouched == Buffer{9});
}
