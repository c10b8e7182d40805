// Set definitions and elements against what nft 1.0.6 put in the kernel for the same
// declarations (read back with libnftnl), and the read-back decoding. No root needed.
#include <catch2/catch.hpp>

#include <linux/netfilter/nf_tables.h>

#include "gateway/nft/diff.hpp"
#include "gateway/nft/set_codec.hpp"

using namespace modgate;
using namespace modgate::ruleset;

namespace {

nft::Bytes hex(const std::string& s) {
    nft::Bytes b;
    for (std::size_t i = 0; i + 1 < s.size(); i += 2) b.push_back(static_cast<std::uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
    return b;
}

Set set(std::vector<KeyType> key, bool interval = false, bool timeout = false) {
    Set s;
    s.name = "s";
    s.key = std::move(key);
    s.interval = interval;
    s.timeout = timeout;
    return s;
}

Element el(std::vector<Value> key) {
    Element e;
    e.key = std::move(key);
    return e;
}

Value ip(const char* s) { return Value{*Ipv4::parse(s)}; }
Value net(const char* s) { return Value{*Cidr::parse(s)}; }

}  // namespace

TEST_CASE("set definitions carry what nft sends") {
    auto w = nft::set_wire(set({KeyType::ipv4_addr}));
    REQUIRE(w);
    CHECK(w->flags == 0);
    CHECK(w->key_type == 7);
    CHECK(w->key_len == 4);
    CHECK(w->userdata == hex("000402000000"));
    CHECK(w->field_len.empty());

    CHECK(nft::set_wire(set({KeyType::inet_proto}))->userdata == hex("000400000000"));
    CHECK(nft::set_wire(set({KeyType::mark}))->userdata == hex("000401000000"));
    CHECK(nft::set_wire(set({KeyType::ifname}))->key_len == 16);

    w = nft::set_wire(set({KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true));
    CHECK(w->flags == (NFT_SET_INTERVAL | NFT_SET_CONCAT));
    CHECK(w->key_type == 0x71cd);
    CHECK(w->key_len == 12);
    CHECK(w->field_len == hex("040402"));
    CHECK(w->userdata == hex("000400000000030800040d0000000100"));

    w = nft::set_wire(set({KeyType::ipv4_addr, KeyType::inet_proto, KeyType::mark, KeyType::ifname, KeyType::ether_addr}, true, true));
    CHECK(w->flags == 0x94);
    CHECK(w->key_type == 0x7313a49);
    CHECK(w->key_len == 36);
    CHECK(w->field_len == hex("0401041006"));

    w = nft::set_wire(set({KeyType::ipv4_addr, KeyType::mark}));
    CHECK(w->flags == 0);
    CHECK(w->key_type == 0x1d3);
    CHECK(w->field_len.empty());
}

TEST_CASE("elements: interval starts and ends, concatenated ranges, byte orders") {
    // `type ipv4_addr; flags interval; elements = { 10.0.0.0/8 }`: a zero end, a start, an end.
    auto e = nft::encode_elements(set({KeyType::ipv4_addr}, true), {el({net("10.0.0.0/8")})}, true);
    REQUIRE(e);
    REQUIRE(e->size() == 3);
    CHECK((*e)[0].key == hex("00000000"));
    CHECK((*e)[0].flags == NFT_SET_ELEM_INTERVAL_END);
    CHECK((*e)[1].key == hex("0a000000"));
    CHECK((*e)[1].flags == 0);
    CHECK((*e)[2].key == hex("0b000000"));
    CHECK((*e)[2].flags == NFT_SET_ELEM_INTERVAL_END);
    // Without the zero segment when the set exists already; to the top: open, no end.
    e = nft::encode_elements(set({KeyType::ipv4_addr}, true), {el({net("128.0.0.0/1")})}, false);
    REQUIRE(e->size() == 1);
    CHECK((*e)[0].userdata == hex("010401000000"));
    // Marks are host-endian in hash sets, big-endian wherever intervals are involved.
    e = nft::encode_elements(set({KeyType::ipv4_addr, KeyType::mark}), {el({ip("1.2.3.4"), Value{std::uint64_t{5}}})}, true);
    CHECK((*e)[0].key == hex("0102030405000000"));
    e = nft::encode_elements(set({KeyType::ipv4_addr, KeyType::mark}, true), {el({ip("1.2.3.4"), Value{std::uint64_t{5}}})}, true);
    CHECK((*e)[0].key == hex("0102030400000005"));
    CHECK((*e)[0].key_end == hex("0102030400000005"));
    e = nft::encode_elements(set({KeyType::mark}, true), {el({Value{std::uint64_t{5}}})}, true);
    REQUIRE(e->size() == 3);
    CHECK((*e)[1].key == hex("00000005"));
    CHECK((*e)[2].key == hex("00000006"));
    // A prefix in a concatenation is one element with the range's ends.
    e = nft::encode_elements(set({KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_proto, KeyType::inet_service}, true),
                             {el({ip("10.20.30.40"), net("10.20.0.0/16"), Value{std::uint64_t{17}}, Value{std::uint64_t{123}}})}, true);
    CHECK((*e)[0].key == hex("0a141e280a14000011000000007b0000"));
    CHECK((*e)[0].key_end == hex("0a141e280a14ffff11000000007b0000"));
    // Overlaps and prefixes in hash sets are refused before the kernel sees them.
    CHECK_FALSE(nft::encode_elements(set({KeyType::ipv4_addr}, true), {el({net("10.0.0.0/8")}), el({ip("10.1.1.1")})}, true));
    CHECK_FALSE(nft::encode_elements(set({KeyType::ipv4_addr}), {el({net("10.0.0.0/8")})}, true));
}

TEST_CASE("read-back decodes what was encoded") {
    for (const auto& s0 : {set({KeyType::ipv4_addr}, true), set({KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true),
                           set({KeyType::ether_addr, KeyType::ipv4_addr}), set({KeyType::mark}, true), set({KeyType::ifname})}) {
        Set s = s0;
        for (int i = 0; i < 4; ++i) {
            std::vector<Value> key;
            for (KeyType k : s.key) {
                switch (k) {
                    case KeyType::ipv4_addr:
                        key.push_back(i % 2 && s.interval ? Value{Cidr{Ipv4{0x0a000000u + (std::uint32_t(i) << 16)}, 16}}
                                                          : Value{Ipv4{0xc0a80000u + std::uint32_t(i)}});
                        break;
                    case KeyType::ether_addr: key.push_back(Value{Mac{{2, 0, 0, 0, 0, static_cast<std::uint8_t>(i)}}}); break;
                    case KeyType::ifname: key.push_back(Value{std::string("eth") + std::to_string(i)}); break;
                    default: key.push_back(Value{std::uint64_t(100 + i)});
                }
            }
            Element e = el(std::move(key));
            e.comment = i == 2 ? "two" : "";
            s.elements.push_back(std::move(e));
        }
        std::sort(s.elements.begin(), s.elements.end(), [](const Element& a, const Element& b) { return a.key < b.key; });
        auto wire = nft::set_wire(s);
        REQUIRE(wire);
        auto d = nft::decode_set("s", *wire);
        REQUIRE(d);
        CHECK(d->exact);
        CHECK(d->set.key == s.key);
        auto elems = nft::encode_elements(s, s.elements, true);
        REQUIRE(elems);
        CHECK(nft::decode_elements(d->set, *elems, {}));
        CHECK(d->set.elements == s.elements);
    }
}

TEST_CASE("diff: elements of dynamic sets are kept, others exactly replaced") {
    Ruleset want;
    Table t;
    t.family = Family::inet;
    t.name = "modgate";
    Set flows = set({KeyType::ipv4_addr});
    flows.name = "flows";
    flows.elements = {el({ip("10.0.0.1")}), el({ip("10.0.0.2")})};
    Set windows = set({KeyType::ipv4_addr}, false, true);
    windows.name = "windows";
    windows.dynamic = true;
    t.sets = {flows, windows};
    want.tables = {t};
    nft::Snapshot have;
    nft::LiveTable lt;
    lt.table = t;
    lt.table.sets[0].elements = {el({ip("10.0.0.2")}), el({ip("10.0.0.3")})};
    lt.table.sets[1].elements = {el({ip("192.0.2.1")})};
    have.tables = {lt};
    auto d = nft::diff(want, have);
    CHECK(d.kept_runtime_elements == 1);
    CHECK(d.text() ==
          "table inet modgate:\n"
          "  + set flows element: 10.0.0.1\n"
          "  - set flows element: 10.0.0.3\n"
          "(1 runtime elements of dynamic sets are kept)\n");
    nft::Snapshot none;
    CHECK(nft::diff(want, none).text().starts_with("table inet modgate:\n  + table: 2 sets, 0 chains\n"));
}
