// What the parent believes of the proxy's DNS results: a vendor's host name only, at most
// max_addresses, never a modality's or the gateway's own address or one no host can have; a
// refused or failed result keeps the last good addresses, and good ones are persisted.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "gateway/daemon/vendor_resolver.hpp"
#include "tests/unit/windows/kernel_policy.hpp"

using namespace modgate;

namespace {


policy::Ipv4 ip(const char* s) { return *policy::Ipv4::parse(s); }

privsep::ResolvedMsg answer(std::vector<policy::Ipv4> addrs, const char* name = "remote.acme.example") {
    return {name, true, std::move(addrs), 300, {}};
}

}  // namespace

TEST_CASE("the parent checks the proxy's DNS results before it believes them") {
    std::string dir = (std::filesystem::temp_directory_path() / "modgate-vr-XXXXXX").string();
    REQUIRE(::mkdtemp(dir.data()) != nullptr);
    const auto p = windows_test::kernel_policy();  // vendor acme-remote: remote.acme.example and 198.51.100.0/28
    std::vector<std::vector<policy::Ipv4>> announced;
    daemon::VendorResolver v(dir, [&](const std::string& vendor, std::vector<policy::Ipv4> a) {
        CHECK(vendor.starts_with("acme"));
        announced.push_back(std::move(a));
    });
    v.set_policy(p);
    REQUIRE(announced.size() == 1);
    CHECK(announced.back().empty());

    CHECK(v.check(answer({ip("203.0.113.10")})).empty());
    CHECK_THAT(v.check(answer({ip("203.0.113.10")}, "other.example")), Catch::Contains("no vendor"));
    CHECK_THAT(v.check(answer({ip("10.20.30.40")})), Catch::Contains("modality pet-ct-1"));
    CHECK_THAT(v.check(answer({ip("10.99.0.5")})), Catch::Contains("management address"));
    for (const char* bad : {"127.0.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "169.254.1.1"})
        CHECK_THAT(v.check(answer({ip(bad)})), Catch::Contains("not a unicast host"));
    std::vector<policy::Ipv4> many;
    for (std::uint32_t i = 1; i <= daemon::VendorResolver::max_addresses + 1; ++i) many.push_back(policy::Ipv4{0xcb007100 + i});
    CHECK_THAT(v.check(answer(many)), Catch::Contains("more than"));
    CHECK_THAT(v.check(answer({})), Catch::Contains("no addresses"));

    v.result(answer({ip("203.0.113.11"), ip("203.0.113.10")}));
    REQUIRE(announced.size() == 2);
    CHECK(announced.back() == std::vector{ip("203.0.113.10"), ip("203.0.113.11")});
    // Refused and failed results change nothing.
    v.result(answer({ip("10.20.30.40")}));
    v.result({"remote.acme.example", false, {}, 0, "SERVFAIL"});
    CHECK(announced.size() == 2);
    // The good answer was persisted: a restart with DNS down still knows it.
    std::ifstream in(dir + "/vendors.state");
    std::string all((std::istreambuf_iterator<char>(in)), {});
    CHECK_THAT(all, Catch::Contains("remote.acme.example 203.0.113.10,203.0.113.11"));
    daemon::VendorResolver again(dir, [&](const std::string&, std::vector<policy::Ipv4> a) { announced.push_back(std::move(a)); });
    again.set_policy(p);
    CHECK(announced.back() == std::vector{ip("203.0.113.10"), ip("203.0.113.11")});
    std::filesystem::remove_all(dir);
}
