// The renderer prints the model the way `nft list` does (the oracle tests check it against nft).
#include <catch2/catch.hpp>

#include "policy/render.hpp"

using namespace modgate::ruleset;

TEST_CASE("statements render in nft's listing syntax") {
    auto r = [](Stmt s) { return render_stmt(Family::inet, s); };
    CHECK(r(Match{Field::meta_iifname, Op::eq, Value{std::string("br0")}, {}}) == "iifname \"br0\"");
    CHECK(r(Match{Field::ether_type, Op::eq, Value{std::uint64_t{0x0800}}, {}}) == "ether type ip");
    CHECK(r(Match{Field::ether_type, Op::eq, Value{std::uint64_t{0x88cc}}, {}}) == "ether type 0x88cc");
    CHECK(r(Match{Field::meta_mark, Op::eq, Value{std::uint64_t{1}}, {}}) == "meta mark 0x00000001");
    CHECK(r(Match{Field::arp_operation, Op::range, Value{std::uint64_t{1}}, Value{std::uint64_t{2}}}) ==
          "arp operation 1-2");
    CHECK(r(Match{Field::arp_operation, Op::ne, Value{std::uint64_t{1}}, {}}) == "arp operation != request");
    CHECK(r(Match{Field::ct_state, Op::any_bit, Value{std::uint64_t{6}}, {}}) == "ct state established,related");
    CHECK(r(Lookup{{Field::ip_saddr, Field::ip_daddr, Field::tcp_dport}, "out_tcp", false}) ==
          "ip saddr . ip daddr . tcp dport @out_tcp");
    CHECK(r(Lookup{{Field::ether_saddr, Field::ip_saddr}, "stations", true}) == "ether saddr . ip saddr != @stations");
    CHECK(r(Limit{10, 20}) == "limit rate 10/second burst 20 packets");
    CHECK(r(Limit{10, 5}) == "limit rate 10/second");
    CHECK(r(Log{"modgate:flow:in", 1}) == "log prefix \"modgate:flow:in\" group 1");
    CHECK(r(SetField{Field::meta_pkttype, Value{std::uint64_t{0}}}) == "meta pkttype set host");
    CHECK(r(Tproxy{15001}) == "tproxy ip to :15001");
    CHECK(r(Verdict{Verdict::Kind::go_to, "x"}) == "goto x");
}

TEST_CASE("durations and priorities") {
    CHECK(render_duration_ms(3600000) == "1h");
    CHECK(render_duration_ms(5400000) == "1h30m");
    CHECK(render_duration_ms(9996) == "9s996ms");
    CHECK(render_priority(Family::bridge, -200) == "filter");
    CHECK(render_priority(Family::inet, -150) == "mangle");
    CHECK(render_priority(Family::inet, 0) == "filter");
    CHECK(render_priority(Family::inet, 7) == "7");
}

TEST_CASE("a table renders sets before chains, blank lines between blocks") {
    Table t;
    t.family = Family::inet;
    t.name = "x";
    Set s;
    s.name = "w";
    s.key = {KeyType::ipv4_addr, KeyType::inet_service};
    s.interval = s.timeout = true;
    s.elements.push_back(Element{{Value{Ipv4{0x0a000001}}, Value{std::uint64_t{443}}}, 3600000, 0, {}, {}});
    t.sets.push_back(s);
    Chain c;
    c.name = "c";
    c.base = BaseChain{Hook::input, 0, true};
    c.rules.push_back(Rule{{Verdict{Verdict::Kind::accept, {}}}, {}, {}});
    t.chains.push_back(c);
    CHECK(render_table(t) ==
          "table inet x {\n"
          "\tset w {\n\t\ttype ipv4_addr . inet_service\n\t\tflags interval,timeout\n"
          "\t\telements = { 10.0.0.1 . 443 timeout 1h }\n\t}\n\n"
          "\tchain c {\n\t\ttype filter hook input priority filter; policy drop;\n\t\taccept\n\t}\n"
          "}\n");
}
