// Host set-up against the real kernel (run inside a fresh namespace by run_host_netns.sh): the
// same scenarios as the unit tests, applied through rtnetlink and to the fake side by side, then
// compared twice: as dumped by our own reader, and as `ip -d rule show` / `ip route show table
// all` print it (the tests may run `ip`; the daemon never does).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "gateway/host/host.hpp"
#include "tests/unit/host/fake_host_net.hpp"
#include "tests/unit/host/policies.hpp"

using namespace modgate;
using namespace modgate::host;
using namespace modgate::host::testing;

namespace {

std::string run(const std::string& cmd) {
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen((cmd + " 2>&1").c_str(), "r"), pclose);
    REQUIRE(p);
    std::string out;
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
    return out;
}

void sh(const std::string& cmd) {
    INFO(cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
}

// Lines of `ip` output that carry `needle`, without the carrier state (the ports have no peer up).
std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < text.size()) {
        auto end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        auto line = text.substr(at, end - at);
        at = end + 1;
        if (line.find(needle) == std::string::npos) continue;
        if (auto ld = line.find(" linkdown"); ld != std::string::npos) line.erase(ld, 9);
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out.push_back(line);
    }
    return out;
}

// How `ip -d rule show` prints a rule of ours.
std::string ip_text(const Rule& r) {
    std::string out = fmt::format("{}:\tfrom {}", r.priority, r.src ? r.src->str() : "all");
    if (r.dst) out += " to " + r.dst->str();
    if (r.fwmark) out += fmt::format(" fwmark {:#x}", *r.fwmark);
    out += r.action == Rule::Action::unreachable ? std::string(" unreachable") : fmt::format(" lookup {}", r.table);
    return out + fmt::format(" proto {}", r.protocol);
}

// How `ip route show table all` prints a route of ours.
std::string ip_text(const Route& r) {
    std::string out = r.type == Route::Type::local ? "local " : "";
    out += r.dst.len == 0 ? std::string("default") : r.dst.str();
    if (r.gateway) out += " via " + r.gateway->str();
    out += fmt::format(" dev {} table {} proto {}", r.dev, r.table, r.protocol);
    if (r.type == Route::Type::local) return out + " scope host";
    return out + (r.onlink ? " onlink" : " scope link");
}

std::unique_ptr<HostNet> kernel() {
    auto k = open_netlink_host_net();
    REQUIRE(k);
    return std::move(*k);
}

// The kernel holds what the fake holds under `protocol` (our mark unless told), read back by our
// own dump and, for ours, as `ip` prints it (it names foreign protocols, or omits "boot").
void check_same(HostNet& k, const FakeHostNet& f, std::uint8_t protocol = rt_protocol) {
    auto rules = k.rules();
    auto routes = k.routes();
    REQUIRE(rules);
    REQUIRE(routes);
    CHECK(ours(*rules, protocol) == ours(f.rule_list, protocol));
    CHECK(sorted(ours(*routes, protocol)) == sorted(ours(f.route_table, protocol)));
    if (protocol != rt_protocol) return;
    std::vector<std::string> want_rules, want_routes;
    for (const auto& r : ours(f.rule_list, protocol)) want_rules.push_back(ip_text(r));
    for (const auto& r : sorted(ours(f.route_table, protocol))) want_routes.push_back(ip_text(r));
    CHECK(lines_with(run("ip -d rule show"), fmt::format(" proto {}", protocol)) == want_rules);
    auto shown = lines_with(run("ip route show table all"), fmt::format(" proto {}", protocol));
    std::sort(shown.begin(), shown.end());
    std::sort(want_routes.begin(), want_routes.end());
    CHECK(shown == want_routes);
}

// Both sides through the same steps.
void prepare_both(std::size_t modalities, HostNet& k, FakeHostNet& f) {
    auto p = policy_of(modalities);
    auto s = prepare(p, k);
    INFO((s ? std::string("ok") : s.error()));
    REQUIRE(s);
    REQUIRE(prepare(p, f));
}

}  // namespace

TEST_CASE("kernel: prepare from empty", "[empty]") {
    auto k = kernel();
    auto f = FakeHostNet::gateway();
    REQUIRE(check_interfaces(policy_of(2).gateway, *k));
    prepare_both(2, *k, f);
    check_same(*k, f);
    CHECK(lines_with(run("ip -d rule show"), "proto 183").size() == 7);
    prepare_both(2, *k, f);  // a reload changes nothing
    check_same(*k, f);
}

TEST_CASE("kernel: prepare after a modality was removed", "[removed]") {
    auto k = kernel();
    auto f = FakeHostNet::gateway();
    prepare_both(3, *k, f);
    check_same(*k, f);
    prepare_both(2, *k, f);
    check_same(*k, f);
    CHECK(run("ip route show table 1002").empty());
    CHECK(run("ip rule show").find("10.20.32.9") == std::string::npos);
    prepare_both(0, *k, f);
    check_same(*k, f);
}

TEST_CASE("kernel: foreign rules and routes survive, even at our priority and in our tables", "[foreign]") {
    auto k = kernel();
    auto f = FakeHostNet::gateway();
    prepare_both(3, *k, f);
    sh("ip rule add pref 200 from 10.99.0.0/16 lookup main");                // protocol unspec (0)
    sh("ip rule add pref 202 from 10.20.32.9 unreachable protocol static");  // looks like ours, is not
    sh("ip route add 10.77.0.0/16 dev br0 table 1002");
    sh("ip route add 10.66.0.0/16 dev br0 table 100");
    auto before = k->rules();
    REQUIRE(before);
    CHECK(ours(*before, 0).size() == 1);
    CHECK(ours(*before, 4).size() == 1);
    f.rule_list = *before;
    auto routes = k->routes();
    REQUIRE(routes);
    f.route_table = ours(*routes, rt_protocol);
    for (const auto& r : ours(*routes, 3)) f.route_table.push_back(r);  // RTPROT_BOOT: `ip route add`
    prepare_both(1, *k, f);
    check_same(*k, f);
    check_same(*k, f, 0);
    check_same(*k, f, 4);
    check_same(*k, f, 3);
    auto text = run("ip -d rule show");
    CHECK(text.find("200:\tfrom 10.99.0.0/16 lookup main proto unspec") != std::string::npos);
    CHECK(text.find("202:\tfrom 10.20.32.9 unreachable proto static") != std::string::npos);
    CHECK(run("ip route show table 1002").find("10.77.0.0/16 dev br0") != std::string::npos);
    CHECK(run("ip route show table 100").find("10.66.0.0/16 dev br0") != std::string::npos);
}

TEST_CASE("kernel: a failure half way is fixed by the next prepare", "[halfway]") {
    for (auto [from, to] : {std::pair{0, 3}, std::pair{3, 1}}) {
        for (int allowed : {0, 2, 5, 9}) {
            CAPTURE(from, to, allowed);
            auto k = kernel();
            auto f = FakeHostNet::gateway();
            prepare_both(static_cast<std::size_t>(from), *k, f);
            FailingHostNet failing(*k, allowed);
            f.fail = {allowed, 0};
            auto pk = prepare(policy_of(static_cast<std::size_t>(to)), failing);
            auto pf = prepare(policy_of(static_cast<std::size_t>(to)), f);
            REQUIRE_FALSE(pk);
            REQUIRE_FALSE(pf);
            check_same(*k, f);  // the same half-finished state
            f.fail = {};
            prepare_both(static_cast<std::size_t>(to), *k, f);
            check_same(*k, f);
            prepare_both(0, *k, f);  // back to empty for the next round
        }
    }
}

TEST_CASE("kernel: links are checked and set through rtnetlink", "[links]") {
    auto k = kernel();
    auto f = FakeHostNet::gateway();
    auto p = policy_of(1);
    REQUIRE(check_interfaces(p.gateway));
    prepare_both(1, *k, f);
    auto link = run("ip -d link show br0");
    CHECK(link.find("link/ether " + p.gateway.bridge_mac.str()) != std::string::npos);
    CHECK(link.find("mcast_snooping 0") != std::string::npos);
    CHECK(link.find("MULTICAST") == std::string::npos);
    CHECK(link.find(",UP") != std::string::npos);
    CHECK_FALSE(link_up("gs0"));
    REQUIRE(set_ports(p.gateway, true));
    CHECK(link_up("gs0"));
    CHECK(link_up("gh0"));
    REQUIRE(set_ports(p.gateway, false));
    CHECK_FALSE(link_up("gh0"));
    sh("ip link set gh0 nomaster");
    auto s = check_interfaces(p.gateway);
    REQUIRE_FALSE(s);
    CHECK(s.error() == "'gh0' is not a port of bridge 'br0' (`ip link set gh0 master br0`)");
    sh("ip link set gh0 master br0");
    p.gateway.bridge = "gs0";
    CHECK(check_interfaces(p.gateway).error() == "'gs0' exists but is not a bridge");
    p.gateway.bridge = "nosuch0";
    CHECK(check_interfaces(p.gateway).error().starts_with("bridge 'nosuch0' does not exist"));
}

TEST_CASE("kernel: errors name the object and carry the kernel's message", "[errors]") {
    auto k = kernel();
    auto f = FakeHostNet::gateway();
    prepare_both(1, *k, f);
    Route r;
    r.table = 1000;
    r.gateway = ipv4("10.1.2.3");  // not on any link, and not marked onlink
    r.dev = "br0";
    r.protocol = rt_protocol;
    auto s = k->replace_route(r);
    REQUIRE_FALSE(s);
    CHECK(s.error().starts_with("route default table 1000: "));
    CHECK(s.error().find("(Nexthop has invalid gateway)") != std::string::npos);
    Rule missing;
    missing.priority = 4242;
    missing.table = 1000;
    missing.protocol = rt_protocol;
    auto d = k->delete_rule(missing);
    REQUIRE_FALSE(d);
    CHECK(d.error().starts_with("rule 4242 lookup 1000: "));
    auto l = k->set_link(LinkChange{"nosuch0", true, {}, {}, {}});
    REQUIRE_FALSE(l);
    CHECK(l.error().starts_with("link nosuch0: No such device"));
    auto none = k->link("nosuch0");
    REQUIRE(none);
    CHECK_FALSE(*none);
}
