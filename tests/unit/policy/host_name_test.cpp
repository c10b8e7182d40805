// The one host-name rule (policy/host_name.hpp): RFC 1123 labels in ASCII whatever the locale,
// and the policy's vendor hosts and SNI patterns going through it.
#include <catch2/catch.hpp>

#include <clocale>
#include <string>

#include "policy/host_name.hpp"
#include "policy/load.hpp"

using namespace modgate::policy;

static_assert(is_host_name("remote.vendor.example"));
static_assert(!is_host_name("remote.vendor.example."));
static_assert(ascii_lower('I') == 'i' && ascii_lower('-') == '-');

namespace {

bool has_error(const LoadResult& r, std::string_view text) {
    for (const auto& d : r.diagnostics.all())
        if (d.severity == Severity::error && d.message.find(text) != std::string::npos) return true;
    return false;
}

LoadResult vendor_policy(const std::string& hosts, const std::string& sni) {
    return load_string("[gateway]\nmodality_port = \"gs0\"\nnetwork_port = \"gh0\"\n"
                       "[gateway.management]\ninterface = \"gm0\"\naddress = \"10.99.0.5/24\"\n"
                       "dns = [\"10.99.0.53\"]\n"
                       "[[vendor]]\nname = \"v\"\nhosts = [" + hosts + "]\ntls_sni = [" + sni + "]\n",
                       "t.toml");
}

}  // namespace

TEST_CASE("host names: RFC 1123 labels, lengths, hyphens, no trailing dot") {
    const std::string l63(63, 'a');
    const std::string n253 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
    REQUIRE(n253.size() == 253);
    for (const std::string& ok : {std::string("a"), std::string("pacs"), std::string("remote.vendor.example"),
                                  std::string("A-1.B2.c"), std::string("xn--bcher-kva.example"),
                                  std::string("1.2.3.4"), std::string("0a.9z"), l63, n253, l63 + ".x"}) {
        INFO(ok);
        CHECK(is_host_name(ok));
    }
    for (const std::string& bad :
         {std::string(""), std::string("."), std::string("a."), std::string("a.b."), std::string(".a"),
          std::string("a..b"), std::string(64, 'a'), l63 + "a.example", n253 + "b", n253 + ".", std::string("-a"),
          std::string("a-"), std::string("a.-b"), std::string("a.b-"), std::string("a_b"), std::string("a b"),
          std::string("a*"), std::string("*.a"), std::string("a\0b", 3), std::string("a.b/c"), std::string("a:1"),
          std::string("a@b"), std::string("a[b"), std::string("a`b"), std::string("a{b")}) {
        INFO(bad);
        CHECK_FALSE(is_host_name(bad));
    }
}

TEST_CASE("host names: bytes outside ASCII letters and digits never count, whatever the locale") {
    const char* const saved = std::setlocale(LC_ALL, nullptr);
    const std::string restore = saved ? saved : "C";
    for (const char* loc : {"C", "C.UTF-8", "en_US.UTF-8", "de_DE.ISO-8859-1", "tr_TR.ISO-8859-9"}) {
        std::setlocale(LC_ALL, loc);  // unavailable locales leave the current one: still a valid check
        INFO(loc);
        for (int b = 0x80; b <= 0xff; ++b) {
            const std::string name = std::string("r") + static_cast<char>(b) + "mote.example";
            CHECK_FALSE(is_host_name(name));
        }
        CHECK(ascii_lower('I') == 'i');
        CHECK(ascii_lower(static_cast<char>(0xc9)) == static_cast<char>(0xc9));
    }
    std::setlocale(LC_ALL, restore.c_str());
}

TEST_CASE("vendor hosts and SNI patterns use the shared rule, plus a dot") {
    auto good = vendor_policy("\"Remote.VENDOR.example\", \"203.0.113.10\"", "\"*.Vendor.Example\"");
    INFO(good.report());
    REQUIRE(good.policy);
    CHECK(good.policy->vendors[0].hosts[0].fqdn == "remote.vendor.example");
    CHECK(good.policy->vendors[0].tls_sni == std::vector<std::string>{"*.vendor.example"});

    for (const char* host : {"\"vendor\"", "\"r\xc3\xa9mote.vendor.example\"", "\"remote.vendor.example.\"",
                             "\"-remote.vendor.example\"", "\"remote_1.vendor.example\""}) {
        INFO(host);
        CHECK(has_error(vendor_policy(host, "\"a.example\""), "is not a host name"));
    }
    for (const char* sni : {"\"*.\"", "\"*.vendor\"", "\"v\xc3\xa9ndor.example\"", "\"a.example.\""}) {
        INFO(sni);
        CHECK(has_error(vendor_policy("\"a.example\"", sni), "TLS name pattern"));
    }
}
