// The one host-name rule the SNI reader, the SNI patterns and the DNS encoder share.
#include "gateway/vendors/host_name.hpp"

#include <catch2/catch.hpp>

using namespace modgate::vendors;

TEST_CASE("is_host_name", "[host_name]") {
    const std::string l63(63, 'a');
    const std::string n253 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
    REQUIRE(n253.size() == 253);
    for (const std::string& ok : {std::string("a"), std::string("remote.vendor.example"), std::string("A-1.B2.c"),
                                  std::string("xn--bcher-kva.example"), std::string("1.2.3.4"), l63, n253,
                                  std::string("a-b-c.d")})
        CHECK(is_host_name(ok));
    for (const std::string& bad :
         {std::string(""), std::string("."), std::string("a."), std::string(".a"), std::string("a..b"),
          std::string(64, 'a'), n253 + "b", l63 + "a.example", std::string("-a"), std::string("a-"),
          std::string("a.-b"), std::string("a_b"), std::string("a b"), std::string("a*"), std::string("a\0b", 3),
          std::string("\xc3\xa4.example"), std::string("a.b/c"), std::string("a:1")})
        CHECK_FALSE(is_host_name(bad));
}

TEST_CASE("ASCII case folding only", "[host_name]") {
    CHECK(ascii_lower("ReMoTe.VENDOR.example-1") == "remote.vendor.example-1");
    CHECK(ascii_lower("\xc3\x84") == "\xc3\x84");  // bytes above 0x7f untouched
    CHECK(iequals("Remote.Vendor.Example", "remote.vendor.EXAMPLE"));
    CHECK_FALSE(iequals("remote", "remotе"));  // second has a Cyrillic 'е'
    CHECK_FALSE(iequals("a", "ab"));
    CHECK(iequals("", ""));
    CHECK(strip_trailing_dot("a.b.") == "a.b");
    CHECK(strip_trailing_dot("a.b") == "a.b");
    CHECK(strip_trailing_dot("a..") == "a.");
    CHECK(strip_trailing_dot("") == "");
}
