// Address parsing: strict forms only, no shorthand that would be read differently elsewhere.
#include <catch2/catch.hpp>

#include "policy/net.hpp"

using namespace modgate::policy;

TEST_CASE("IPv4 addresses parse strictly") {
    CHECK(Ipv4::parse("10.20.30.40")->value == 0x0a141e28u);
    CHECK(Ipv4::parse("0.0.0.0")->value == 0u);
    CHECK(Ipv4::parse("255.255.255.255")->value == 0xffffffffu);
    for (auto bad : {"", "10.20.30", "10.20.30.40.50", "256.1.1.1", "010.1.1.1", "1..1.1", "1.1.1.1 ", "a.b.c.d",
                     "1.1.1.-1", "1.1.1.1/"})
        CHECK_FALSE(Ipv4::parse(bad));
    CHECK(Ipv4{0x0a141e28u}.str() == "10.20.30.40");
}

TEST_CASE("CIDR networks require clear host bits") {
    auto c = Cidr::parse("10.20.0.0/16");
    REQUIRE(c);
    CHECK(c->len == 16);
    CHECK(c->contains(*Ipv4::parse("10.20.255.1")));
    CHECK_FALSE(c->contains(*Ipv4::parse("10.21.0.1")));
    CHECK(c->str() == "10.20.0.0/16");
    CHECK(Cidr::parse("10.20.1.5")->is_host());
    CHECK(Cidr::parse("10.20.1.5")->str() == "10.20.1.5");
    CHECK_FALSE(Cidr::parse("10.20.1.5/24"));
    CHECK_FALSE(Cidr::parse("10.20.1.0/33"));
    CHECK(Cidr::parse("0.0.0.0/0")->contains(*Ipv4::parse("1.2.3.4")));
    CHECK(c->contains(*Cidr::parse("10.20.1.0/24")));
    CHECK_FALSE(Cidr::parse("10.20.1.0/24")->contains(*c));
    CHECK(c->overlaps(*Cidr::parse("10.20.1.0/24")));
    CHECK_FALSE(c->overlaps(*Cidr::parse("10.30.1.0/24")));
}

TEST_CASE("interface addresses keep host bits and know their network") {
    auto a = IfAddr::parse("10.20.30.40/24");
    REQUIRE(a);
    CHECK(a->network().str() == "10.20.30.0/24");
    CHECK(a->str() == "10.20.30.40/24");
}

TEST_CASE("MAC addresses") {
    auto m = Mac::parse("00:16:3E:12:34:56");
    REQUIRE(m);
    CHECK(m->str() == "00:16:3e:12:34:56");
    CHECK(Mac::parse("00-16-3e-12-34-56"));
    CHECK_FALSE(Mac::parse("00:16-3e:12:34:56"));
    CHECK_FALSE(Mac::parse("00:16:3e:12:34"));
    CHECK_FALSE(Mac::parse("0:16:3e:12:34:56:"));
    CHECK_FALSE(Mac::parse("00:16:3e:12:34:5g"));
    CHECK(Mac::parse("01:00:5e:00:00:01")->is_multicast());
}
