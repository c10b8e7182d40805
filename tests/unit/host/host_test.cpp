// Host set-up against the in-memory fake: the state a policy wants, applying it from empty and
// after changes, foreign rules and routes left alone, and recovery from a half-finished run.
#include <catch2/catch.hpp>

#include "gateway/host/host.hpp"
#include "tests/unit/host/fake_host_net.hpp"
#include "tests/unit/host/policies.hpp"

using namespace modgate;
using namespace modgate::host;
using host::testing::FakeHostNet;
using host::testing::ours;
using host::testing::sorted;
using host::testing::cidr;
using host::testing::ipv4;
using host::testing::policy_of;

namespace {

Route route(std::uint32_t table, const char* dst, const char* dev, const char* via = nullptr) {
    Route r;
    r.table = table;
    r.dst = cidr(dst);
    r.dev = dev;
    if (via) r.gateway = ipv4(via);
    r.onlink = via != nullptr;
    r.protocol = rt_protocol;
    return r;
}

Rule rule(std::uint32_t pref, const char* from, const char* to, std::uint32_t table) {
    Rule r;
    r.priority = pref;
    r.action = table ? Rule::Action::lookup : Rule::Action::unreachable;
    r.table = table;
    if (from) r.src = cidr(from);
    if (to) r.dst = cidr(to);
    r.protocol = rt_protocol;
    return r;
}

// What the fake holds under our mark, in the order a dump shows it.
HostState our_state(const FakeHostNet& f) {
    return {sorted(ours(f.route_table, rt_protocol)), ours(f.rule_list, rt_protocol)};
}

// The state of a clean run from empty, rules in the kernel's order (by priority).
HostState clean_state(const policy::Policy& p) {
    auto f = FakeHostNet::gateway();
    REQUIRE(prepare(p, f));
    return our_state(f);
}

}  // namespace

TEST_CASE("desired state: two modalities, one with a router and one without", "[host]") {
    auto s = desired_host_state(policy_of(2));
    Route local = route(100, "0.0.0.0/0", "lo");
    local.type = Route::Type::local;
    CHECK(s.routes == std::vector<Route>{local, route(1000, "10.20.30.0/24", "br0"),
                                         route(1000, "0.0.0.0/0", "br0", "10.20.30.1"),
                                         route(1001, "10.20.31.0/24", "br0")});
    Rule divert = rule(100, nullptr, nullptr, 100);
    divert.fwmark = 0x1;
    CHECK(s.rules == std::vector<Rule>{divert, rule(200, "10.20.30.40", nullptr, 1000),
                                       rule(201, nullptr, "10.20.30.40", 1000), rule(202, "10.20.30.40", nullptr, 0),
                                       rule(200, "10.20.31.7", nullptr, 1001), rule(201, nullptr, "10.20.31.7", 1001),
                                       rule(202, "10.20.31.7", nullptr, 0)});
    CHECK(s.rules[1].str() == "rule 200 from 10.20.30.40 lookup 1000");
    CHECK(s.rules[3].str() == "rule 202 from 10.20.30.40 unreachable");
    CHECK(s.routes[2].str() == "route default table 1000");
}

TEST_CASE("prepare from empty: links, sysctls, every rule and route under our mark", "[host]") {
    auto f = FakeHostNet::gateway();
    f.sysctls["net/ipv4/conf/all/rp_filter"] = "2";
    auto p = policy_of(2);
    REQUIRE(prepare(p, f));
    auto want = desired_host_state(p);
    CHECK(sorted(f.route_table) == sorted(want.routes));
    CHECK(f.rule_list.size() == want.rules.size());
    CHECK(our_state(f) == clean_state(p));
    const auto& br = f.links["br0"];
    CHECK(br.link.up);
    CHECK(br.mac == p.gateway.bridge_mac);
    CHECK_FALSE(br.multicast);
    CHECK_FALSE(br.mcast_snooping);
    CHECK_FALSE(f.links["gs0"].link.up);  // ports come up only on set_ports
    CHECK(f.sysctls["net/bridge/bridge-nf-call-iptables"] == "0");
    CHECK(f.sysctls["net/ipv4/conf/all/rp_filter"] == "0");
    CHECK(f.sysctls["net/ipv4/conf/mg0/rp_filter"] == "2");
    CHECK(f.sysctls["net/ipv4/conf/br0/arp_ignore"] == "8");

    // Unchanged policy: a reload changes nothing but the bridge's settings.
    f.log.clear();
    REQUIRE(prepare(p, f));
    CHECK(f.log == std::vector<std::string>{"set link br0"});
}

TEST_CASE("prepare after a modality was removed deletes exactly its rules, routes and table", "[host]") {
    auto f = FakeHostNet::gateway();
    REQUIRE(prepare(policy_of(3), f));
    f.log.clear();
    REQUIRE(prepare(policy_of(2), f));
    CHECK(f.log == std::vector<std::string>{"set link br0", "delete rule 200 from 10.20.32.9 lookup 1002",
                                            "delete rule 201 to 10.20.32.9 lookup 1002",
                                            "delete rule 202 from 10.20.32.9 unreachable",
                                            "delete route default table 1002", "delete route 10.20.32.0/24 table 1002"});
    CHECK(our_state(f) == clean_state(policy_of(2)));
    for (const auto& r : f.route_table) CHECK(r.table != 1002);

    SECTION("a router removed from a modality takes its default route with it") {
        auto p = policy_of(2);
        p.modalities[0].router.reset();
        f.log.clear();
        REQUIRE(prepare(p, f));
        CHECK(f.log == std::vector<std::string>{"set link br0", "delete route default table 1000"});
    }
}

TEST_CASE("foreign rules and routes are never touched", "[host]") {
    auto f = FakeHostNet::gateway();
    // Another owner's rule at our priority, its route in one of our tables and in table 100.
    Rule foreign_rule = rule(200, "10.99.0.0/16", nullptr, 254);
    foreign_rule.protocol = 4;  // RTPROT_STATIC: `ip rule add` by an administrator
    Route foreign_route = route(1001, "10.77.0.0/16", "br0");
    foreign_route.protocol = 3;  // RTPROT_BOOT: `ip route add`
    Route foreign_local = route(100, "10.66.0.0/16", "br0");
    foreign_local.protocol = 3;
    f.rule_list.push_back(foreign_rule);
    f.route_table = {foreign_route, foreign_local};
    REQUIRE(prepare(policy_of(3), f));
    REQUIRE(prepare(policy_of(1), f));
    REQUIRE(prepare(policy_of(0), f));
    CHECK(ours(f.rule_list, 4) == std::vector<Rule>{foreign_rule});
    CHECK(ours(f.route_table, 3) == std::vector<Route>{foreign_route, foreign_local});
    CHECK(our_state(f) == clean_state(policy_of(0)));
    for (const auto& l : f.log) CHECK(l.find("10.77.") == std::string::npos);
}

TEST_CASE("a failure half way leaves a state the next prepare fixes", "[host]") {
    auto [from, to] = GENERATE(std::pair{0, 3}, std::pair{3, 1}, std::pair{1, 3}, std::pair{3, 0});
    auto count = FakeHostNet::gateway();
    REQUIRE(prepare(policy_of(static_cast<std::size_t>(from)), count));
    count.log.clear();
    REQUIRE(prepare(policy_of(static_cast<std::size_t>(to)), count));
    const int changes = static_cast<int>(count.log.size());
    for (int allowed = 0; allowed < changes; ++allowed) {
        CAPTURE(from, to, allowed);
        auto f = FakeHostNet::gateway();
        REQUIRE(prepare(policy_of(static_cast<std::size_t>(from)), f));
        f.fail = {allowed, 0};
        auto s = prepare(policy_of(static_cast<std::size_t>(to)), f);
        REQUIRE_FALSE(s);
        CHECK(s.error().find("injected failure") != std::string::npos);
        f.fail = {};
        REQUIRE(prepare(policy_of(static_cast<std::size_t>(to)), f));
        CHECK(our_state(f) == clean_state(policy_of(static_cast<std::size_t>(to))));
    }
}

TEST_CASE("interfaces are checked and ports set through the same door", "[host]") {
    auto f = FakeHostNet::gateway();
    auto p = policy_of(1);
    CHECK(check_interfaces(p.gateway, f));
    f.links["gh0"].link.master.clear();
    auto s = check_interfaces(p.gateway, f);
    REQUIRE_FALSE(s);
    CHECK(s.error() == "'gh0' is not a port of bridge 'br0' (`ip link set gh0 master br0`)");
    f.links["br0"].link.is_bridge = false;
    CHECK(check_interfaces(p.gateway, f).error() == "'br0' exists but is not a bridge");
    f.links.erase("br0");
    CHECK(check_interfaces(p.gateway, f).error().starts_with("bridge 'br0' does not exist"));

    auto g = FakeHostNet::gateway();
    REQUIRE(set_ports(p.gateway, true, g));
    CHECK(g.links["gs0"].link.up);
    CHECK(g.links["gh0"].link.up);
    CHECK_FALSE(g.links["br0"].link.up);
}
