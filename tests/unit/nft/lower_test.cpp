// The linearizer against bytecode nft 1.0.6 printed for the same rules (`nft --debug=netlink`),
// and the parser's round trip back to the model. No root needed.
#include <catch2/catch.hpp>

#include "gateway/nft/expr_codec.hpp"
#include "gateway/nft/lower.hpp"
#include "gateway/nft/raise.hpp"
#include "policy/render.hpp"

using namespace modgate;
using namespace modgate::ruleset;

namespace {

Value num(std::uint64_t v) { return Value{v}; }
Value ip(const char* s) { return Value{*Ipv4::parse(s)}; }
Value net(const char* s) { return Value{*Cidr::parse(s)}; }
Value mac(const char* s) { return Value{*Mac::parse(s)}; }
Match eq(Field f, Value v) { return Match{f, Op::eq, std::move(v), {}}; }
Match ne(Field f, Value v) { return Match{f, Op::ne, std::move(v), {}}; }
Verdict accept() { return {Verdict::Kind::accept, {}}; }

Set set(std::string name, std::vector<KeyType> key, bool interval) {
    Set s;
    s.name = std::move(name);
    s.key = std::move(key);
    s.interval = interval;
    return s;
}

Table table(Family f) {
    Table t;
    t.family = f;
    t.name = "t";
    t.sets.push_back(set("stations", {KeyType::ether_addr, KeyType::ipv4_addr}, false));
    t.sets.push_back(set("s2", {KeyType::ether_addr, KeyType::ipv4_addr, KeyType::ifname, KeyType::mark, KeyType::inet_proto}, false));
    t.sets.push_back(set("out_tcp", {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_service}, true));
    t.sets.push_back(set("out_flows", {KeyType::ipv4_addr, KeyType::ipv4_addr, KeyType::inet_proto, KeyType::inet_service}, true));
    t.sets.push_back(set("k", {KeyType::ipv4_addr, KeyType::mark}, true));
    t.sets.push_back(set("m", {KeyType::mark}, true));
    t.sets.push_back(set("arp_pairs", {KeyType::ipv4_addr, KeyType::ipv4_addr}, true));
    return t;
}

std::string code(Family f, std::vector<Stmt> stmts) {
    Rule r;
    r.stmts = std::move(stmts);
    auto c = nft::lower_rule(table(f), r);
    REQUIRE(c.has_value());
    return nft::bytecode_text(c->insns);
}

// The parser must give back the listing form, and say it is exact.
void round_trip(Family f, std::vector<Stmt> stmts) {
    Rule r;
    r.stmts = std::move(stmts);
    r.comment = "why";
    auto c = nft::lower_rule(table(f), r);
    REQUIRE(c.has_value());
    auto back = nft::raise_rule(table(f), *c);
    INFO(render_rule(f, r) << "  <->  " << render_rule(f, back.rule));
    CHECK(back.exact);
    CHECK(back.rule == r);
}

}  // namespace

TEST_CASE("bridge: ip needs meta protocol, tcp needs meta l4proto") {
    CHECK(code(Family::bridge, {eq(Field::ip_saddr, ip("1.2.3.4")), accept()}) ==
          "  [ meta load protocol => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000008 ]\n"
          "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x04030201 ]\n"
          "  [ immediate reg 0 accept ]\n");
    CHECK(code(Family::bridge, {eq(Field::tcp_dport, num(22)), accept()}) ==
          "  [ meta load l4proto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000006 ]\n"
          "  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00001600 ]\n"
          "  [ immediate reg 0 accept ]\n");
}

TEST_CASE("bridge: adjacent link-layer compares merge, ip after ether does not") {
    CHECK(code(Family::bridge, {eq(Field::ether_saddr, mac("00:11:22:33:44:55")), eq(Field::ip_saddr, ip("1.2.3.4")), accept()}) ==
          "  [ payload load 6b @ link header + 6 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x33221100 0x00005544 ]\n"
          "  [ meta load protocol => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000008 ]\n"
          "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x04030201 ]\n"
          "  [ immediate reg 0 accept ]\n");
    CHECK(code(Family::bridge, {eq(Field::ether_daddr, mac("00:11:22:33:44:55")), eq(Field::ether_saddr, mac("00:11:22:33:44:66")), accept()}) ==
          "  [ payload load 12b @ link header + 0 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x33221100 0x11005544 0x66443322 ]\n"
          "  [ immediate reg 0 accept ]\n");
}

TEST_CASE("bridge: a concatenation loads into consecutive registers") {
    CHECK(code(Family::bridge, {Lookup{{Field::ether_saddr, Field::ip_saddr, Field::meta_iifname, Field::meta_mark, Field::meta_l4proto}, "s2", false}}) ==
          "  [ meta load protocol => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000008 ]\n"
          "  [ payload load 6b @ link header + 6 => reg 1 ]\n"
          "  [ payload load 4b @ network header + 12 => reg 10 ]\n"
          "  [ meta load iifname => reg 11 ]\n"
          "  [ meta load mark => reg 15 ]\n"
          "  [ meta load l4proto => reg 3 ]\n"
          "  [ lookup reg 1 set s2 0x0 ]\n");
    CHECK(code(Family::bridge, {eq(Field::meta_iifname, Value{std::string("gs0")}), Lookup{{Field::ether_saddr, Field::arp_saddr_ip}, "stations", true}}) ==
          "  [ meta load iifname => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00307367 0x00000000 0x00000000 0x00000000 ]\n"
          "  [ payload load 2b @ link header + 12 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000608 ]\n"
          "  [ payload load 6b @ link header + 6 => reg 1 ]\n"
          "  [ payload load 4b @ network header + 14 => reg 10 ]\n"
          "  [ lookup reg 1 set stations 0x1 ]\n");
}

TEST_CASE("prefixes, wildcards, merged transport ports, ranges") {
    CHECK(code(Family::bridge, {eq(Field::ip_saddr, net("10.0.0.0/8")), ne(Field::ip_daddr, net("10.0.0.0/8"))}) ==
          "  [ meta load protocol => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000008 ]\n"
          "  [ payload load 1b @ network header + 12 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x0000000a ]\n"
          "  [ payload load 1b @ network header + 16 => reg 1 ]\n"
          "  [ cmp neq reg 1 0x0000000a ]\n");
    CHECK(code(Family::bridge, {eq(Field::meta_iifname, Value{std::string("eth*")}), accept()}) ==
          "  [ meta load iifname => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00687465 ]\n"
          "  [ immediate reg 0 accept ]\n");
    CHECK(code(Family::bridge, {eq(Field::udp_sport, num(53)), eq(Field::udp_dport, num(53))}) ==
          "  [ meta load l4proto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000011 ]\n"
          "  [ payload load 4b @ transport header + 0 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x35003500 ]\n");
    CHECK(code(Family::bridge, {ne(Field::arp_hlen, num(6)), ne(Field::arp_plen, num(4))}) ==
          "  [ payload load 2b @ link header + 12 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000608 ]\n"
          "  [ payload load 2b @ network header + 4 => reg 1 ]\n"
          "  [ cmp neq reg 1 0x00000406 ]\n");
    CHECK(code(Family::inet, {Match{Field::tcp_sport, Op::range, num(1), num(1024)}}) ==
          "  [ meta load l4proto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000006 ]\n"
          "  [ payload load 2b @ transport header + 0 => reg 1 ]\n"
          "  [ cmp gte reg 1 0x00000100 ]\n"
          "  [ cmp lte reg 1 0x00000004 ]\n");
    CHECK(code(Family::inet, {Match{Field::meta_mark, Op::range, num(1), num(5)}}) ==
          "  [ meta load mark => reg 1 ]\n"
          "  [ byteorder reg 1 = hton(reg 1, 4, 4) ]\n"
          "  [ cmp gte reg 1 0x01000000 ]\n"
          "  [ cmp lte reg 1 0x05000000 ]\n");
}

TEST_CASE("ARP header checks merge the way nft merges them") {
    std::vector<Stmt> hdr = {eq(Field::arp_htype, num(1)), eq(Field::arp_ptype, num(0x0800)), eq(Field::arp_hlen, num(6)),
                             eq(Field::arp_plen, num(4))};
    auto with_op = hdr;
    with_op.push_back(eq(Field::arp_operation, num(1)));
    with_op.push_back(accept());
    CHECK(code(Family::bridge, with_op) ==
          "  [ payload load 2b @ link header + 12 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000608 ]\n"
          "  [ payload load 4b @ network header + 0 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00080100 ]\n"
          "  [ payload load 4b @ network header + 4 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x01000406 ]\n"
          "  [ immediate reg 0 accept ]\n");
    auto ranged = hdr;
    ranged.push_back(Match{Field::arp_operation, Op::range, num(1), num(2)});
    ranged.push_back(Lookup{{Field::arp_saddr_ip, Field::arp_daddr_ip}, "arp_pairs", false});
    ranged.push_back(accept());
    CHECK(code(Family::bridge, ranged) ==
          "  [ payload load 2b @ link header + 12 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000608 ]\n"
          "  [ payload load 4b @ network header + 0 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00080100 ]\n"
          "  [ payload load 2b @ network header + 4 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000406 ]\n"
          "  [ payload load 2b @ network header + 6 => reg 1 ]\n"
          "  [ cmp gte reg 1 0x00000100 ]\n"
          "  [ cmp lte reg 1 0x00000200 ]\n"
          "  [ payload load 4b @ network header + 14 => reg 1 ]\n"
          "  [ payload load 4b @ network header + 24 => reg 9 ]\n"
          "  [ lookup reg 1 set arp_pairs 0x0 ]\n"
          "  [ immediate reg 0 accept ]\n");
}

TEST_CASE("inet: dependencies in concatenation order, tproxy, mark") {
    CHECK(code(Family::inet, {eq(Field::meta_iifname, Value{std::string("br0")}),
                              Lookup{{Field::ip_saddr, Field::ip_daddr, Field::tcp_dport}, "out_tcp", false}, Tproxy{15001},
                              SetField{Field::meta_mark, num(1)}, accept()}) ==
          "  [ meta load iifname => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00307262 0x00000000 0x00000000 0x00000000 ]\n"
          "  [ meta load nfproto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000002 ]\n"
          "  [ meta load l4proto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000006 ]\n"
          "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
          "  [ payload load 4b @ network header + 16 => reg 9 ]\n"
          "  [ payload load 2b @ transport header + 2 => reg 10 ]\n"
          "  [ lookup reg 1 set out_tcp 0x0 ]\n"
          "  [ immediate reg 1 0x0000993a ]\n"
          "  [ tproxy ip port reg 1 ]\n"
          "  [ immediate reg 1 0x00000001 ]\n"
          "  [ meta set mark with reg 1 ]\n"
          "  [ immediate reg 0 accept ]\n");
    CHECK(code(Family::inet, {eq(Field::ip_saddr, ip("1.2.3.4")), eq(Field::tcp_dport, num(22)), eq(Field::ip_daddr, ip("5.6.7.8")),
                              eq(Field::tcp_sport, num(1))}) ==
          "  [ meta load nfproto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000002 ]\n"
          "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x04030201 ]\n"
          "  [ meta load l4proto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000006 ]\n"
          "  [ payload load 4b @ network header + 16 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x08070605 ]\n"
          "  [ payload load 4b @ transport header + 0 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x16000100 ]\n");
}

TEST_CASE("inet: host-endian keys of interval sets are converted") {
    CHECK(code(Family::inet, {Lookup{{Field::ip_saddr, Field::meta_mark}, "k", false}}) ==
          "  [ meta load nfproto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000002 ]\n"
          "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
          "  [ meta load mark => reg 9 ]\n"
          "  [ byteorder reg 9 = hton(reg 9, 4, 4) ]\n"
          "  [ lookup reg 1 set k 0x0 ]\n");
    CHECK(code(Family::inet, {Lookup{{Field::meta_mark}, "m", false}}) ==
          "  [ meta load mark => reg 1 ]\n"
          "  [ byteorder reg 1 = hton(reg 1, 4, 4) ]\n"
          "  [ lookup reg 1 set m 0x0 ]\n");
    CHECK(code(Family::inet, {eq(Field::meta_iifname, Value{std::string("br0")}), eq(Field::meta_l4proto, num(6)),
                              Lookup{{Field::ip_saddr, Field::ip_daddr, Field::meta_l4proto, Field::tcp_dport}, "out_flows", false}}) ==
          "  [ meta load iifname => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00307262 0x00000000 0x00000000 0x00000000 ]\n"
          "  [ meta load l4proto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000006 ]\n"
          "  [ meta load nfproto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000002 ]\n"
          "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
          "  [ payload load 4b @ network header + 16 => reg 9 ]\n"
          "  [ meta load l4proto => reg 10 ]\n"
          "  [ byteorder reg 10 = hton(reg 10, 2, 1) ]\n"
          "  [ payload load 2b @ transport header + 2 => reg 11 ]\n"
          "  [ lookup reg 1 set out_flows 0x0 ]\n");
}

TEST_CASE("ct state: implicit bit test, != is a plain compare") {
    CHECK(code(Family::inet, {ne(Field::ct_state, num(value::ct_established)), Verdict{Verdict::Kind::drop, {}}}) ==
          "  [ ct load state => reg 1 ]\n"
          "  [ cmp neq reg 1 0x00000002 ]\n"
          "  [ immediate reg 0 drop ]\n");
    CHECK(code(Family::inet, {Match{Field::ct_state, Op::any_bit, num(value::ct_established | value::ct_related | value::ct_new), {}}, accept()}) ==
          "  [ ct load state => reg 1 ]\n"
          "  [ bitwise reg 1 = ( reg 1 & 0x0000000e ) ^ 0x00000000 ]\n"
          "  [ cmp neq reg 1 0x00000000 ]\n"
          "  [ immediate reg 0 accept ]\n");
    CHECK(code(Family::inet, {eq(Field::ct_state, num(value::ct_new)), accept()}) ==
          "  [ ct load state => reg 1 ]\n"
          "  [ bitwise reg 1 = ( reg 1 & 0x00000008 ) ^ 0x00000000 ]\n"
          "  [ cmp neq reg 1 0x00000000 ]\n"
          "  [ immediate reg 0 accept ]\n");
}

TEST_CASE("set statements, drop chains, the arp family") {
    CHECK(code(Family::bridge, {eq(Field::meta_iifname, Value{std::string("gs0")}), eq(Field::ether_type, num(0x0800)),
                                eq(Field::meta_l4proto, num(6)), SetField{Field::ether_daddr, mac("02:00:00:00:00:01")},
                                SetField{Field::meta_pkttype, num(0)}, accept()}) ==
          "  [ meta load iifname => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00307367 0x00000000 0x00000000 0x00000000 ]\n"
          "  [ payload load 2b @ link header + 12 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000008 ]\n"
          "  [ meta load l4proto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000006 ]\n"
          "  [ immediate reg 1 0x00000002 0x00000100 ]\n"
          "  [ payload write reg 1 => 6b @ link header + 0 csum_type 0 csum_off 0 csum_flags 0x0 ]\n"
          "  [ immediate reg 1 0x00000000 ]\n"
          "  [ meta set pkttype with reg 1 ]\n"
          "  [ immediate reg 0 accept ]\n");
    CHECK(code(Family::bridge, {Counter{}, Limit{10, 20}, Log{"modgate spoof out", 1}}) ==
          "  [ counter pkts 0 bytes 0 ]\n"
          "  [ limit rate 10/second burst 20 type packets flags 0x0 ]\n"
          "  [ log prefix modgate spoof out group 1 snaplen 0 qthreshold 0 ]\n");
    CHECK(code(Family::arp, {eq(Field::meta_oifname, Value{std::string("br0")}), eq(Field::arp_operation, num(1)),
                             ne(Field::arp_saddr_ip, ip("0.0.0.0")), SetField{Field::arp_saddr_ip, ip("0.0.0.0")}}) ==
          "  [ meta load oifname => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00307262 0x00000000 0x00000000 0x00000000 ]\n"
          "  [ payload load 2b @ network header + 6 => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000100 ]\n"
          "  [ payload load 4b @ network header + 14 => reg 1 ]\n"
          "  [ cmp neq reg 1 0x00000000 ]\n"
          "  [ immediate reg 1 0x00000000 ]\n"
          "  [ payload write reg 1 => 4b @ network header + 14 csum_type 0 csum_off 0 csum_flags 0x0 ]\n");
    CHECK(code(Family::inet, {eq(Field::meta_iifname, Value{std::string("br0")}), eq(Field::meta_l4proto, num(6)),
                              eq(Field::socket_transparent, num(1)), eq(Field::socket_wildcard, num(0)),
                              SetField{Field::meta_mark, num(1)}, accept()}) ==
          "  [ meta load iifname => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00307262 0x00000000 0x00000000 0x00000000 ]\n"
          "  [ meta load l4proto => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000006 ]\n"
          "  [ socket load transparent => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000001 ]\n"
          "  [ socket load wildcard => reg 1 ]\n"
          "  [ cmp eq reg 1 0x00000000 ]\n"
          "  [ immediate reg 1 0x00000001 ]\n"
          "  [ meta set mark with reg 1 ]\n"
          "  [ immediate reg 0 accept ]\n");
}

TEST_CASE("what nft refuses, the engine refuses") {
    Rule r;
    r.stmts = {eq(Field::arp_saddr_ip, ip("1.2.3.4")), eq(Field::ip_saddr, ip("1.2.3.4"))};
    CHECK_FALSE(nft::lower_rule(table(Family::bridge), r).has_value());
    r.stmts = {eq(Field::meta_nfproto, num(2))};
    CHECK_FALSE(nft::lower_rule(table(Family::bridge), r).has_value());
    r.stmts = {Tproxy{1}};
    CHECK_FALSE(nft::lower_rule(table(Family::inet), r).has_value());
    r.stmts = {Lookup{{Field::ip_saddr}, "nosuchset", false}};
    CHECK_FALSE(nft::lower_rule(table(Family::inet), r).has_value());
    r.stmts = {Lookup{{Field::ip_saddr, Field::tcp_dport}, "stations", false}};
    CHECK_FALSE(nft::lower_rule(table(Family::inet), r).has_value());
}

TEST_CASE("read-back gives the listing form back") {
    round_trip(Family::bridge, {eq(Field::ip_saddr, ip("1.2.3.4")), accept()});
    round_trip(Family::bridge, {eq(Field::meta_iifname, Value{std::string("gs0")}), Lookup{{Field::ether_saddr, Field::arp_saddr_ip}, "stations", true},
                                Verdict{Verdict::Kind::jump, "drop_spoof_out"}});
    round_trip(Family::bridge, {eq(Field::ether_saddr, mac("00:11:22:33:44:55")), eq(Field::arp_saddr_ip, ip("1.2.3.4"))});
    round_trip(Family::bridge, {eq(Field::arp_htype, num(1)), eq(Field::arp_ptype, num(0x0800)), eq(Field::arp_hlen, num(6)),
                                eq(Field::arp_plen, num(4)), Match{Field::arp_operation, Op::range, num(1), num(2)},
                                Lookup{{Field::arp_daddr_ip, Field::arp_saddr_ip}, "arp_pairs", false}, accept()});
    round_trip(Family::bridge, {eq(Field::ether_type, num(0x0800)), eq(Field::meta_l4proto, num(17)),
                                SetField{Field::ether_daddr, mac("02:00:00:00:00:01")}, SetField{Field::meta_pkttype, num(0)}, accept()});
    round_trip(Family::bridge, {eq(Field::ether_type, num(0x86dd)), Verdict{Verdict::Kind::go_to, "x"}});
    round_trip(Family::inet, {eq(Field::meta_iifname, Value{std::string("br0")}),
                              Lookup{{Field::ip_daddr, Field::ip_saddr, Field::udp_sport}, "out_tcp", false},
                              eq(Field::socket_transparent, num(1)), SetField{Field::meta_mark, num(1)}, accept()});
    round_trip(Family::inet, {Lookup{{Field::ip_saddr, Field::ip_daddr, Field::tcp_dport}, "out_tcp", false}, Tproxy{15001},
                              SetField{Field::meta_mark, num(1)}, accept()});
    round_trip(Family::inet, {Match{Field::ct_state, Op::any_bit, num(6), {}}, accept()});
    round_trip(Family::inet, {eq(Field::meta_nfproto, num(10)), Verdict{Verdict::Kind::drop, {}}});
    round_trip(Family::inet, {eq(Field::ip_saddr, net("10.0.0.0/8")), ne(Field::ip_daddr, net("10.16.0.0/12")), eq(Field::udp_dport, num(53))});
    round_trip(Family::inet, {Counter{}, Limit{10, 20}, Log{"modgate:x:in", 1}});
    round_trip(Family::arp, {eq(Field::meta_oifname, Value{std::string("br0")}), ne(Field::arp_operation, num(1)),
                             ne(Field::arp_saddr_ip, ip("0.0.0.0")), SetField{Field::arp_saddr_ip, ip("0.0.0.0")}});
}
