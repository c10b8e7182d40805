// The proxy's view of open maintenance windows: a diverted flow matches a window's synthetic
// allow only while the window is open, only between its modality and the vendor's addresses,
// and only on the vendor's ports (outbound) or the window's inbound ports.
#include <catch2/catch.hpp>

#include "gateway/proxy/window_flows.hpp"
#include "policy/load.hpp"

using namespace modgate;
using namespace std::chrono_literals;

namespace {

constexpr const char* text = R"(
[gateway]
modality_port = "gs0"
network_port = "gh0"

[[modality]]
name = "pet-ct-1"
ip = "10.20.30.40/24"
mac = "00:16:3e:12:34:56"
router = "10.20.30.1"

[[vendor]]
name = "acme"
hosts = ["198.51.100.0/28"]
ports = [443]

[[maintenance]]
modality = "pet-ct-1"
vendor = "acme"
max_duration = "4h"
inbound_ports = [5900]
)";

policy::Ipv4 ip(const char* s) { return *policy::Ipv4::parse(s); }

}  // namespace

TEST_CASE("a window flow matches while its window is open, in both directions") {
    auto r = policy::load_string(text, "w.toml");
    INFO(r.report());
    REQUIRE(r.policy);
    auto state = std::make_shared<const proxy::PolicyState>(std::move(*r.policy));
    auto now = std::chrono::system_clock::now();
    auto ends = std::chrono::duration_cast<std::chrono::milliseconds>((now + 1h).time_since_epoch()).count();
    privsep::OpenWindow w{"pet-ct-1", "acme", ends, {policy::Cidr{ip("198.51.100.0"), 28}}};
    auto flows = proxy::build_window_flows(state, {w});
    std::shared_ptr<const void> keep;

    auto out = proxy::match_window(flows, ip("10.20.30.40"), ip("198.51.100.5"), 443, now, keep);
    REQUIRE(out);
    CHECK(out->allow->name == "pet-ct-1->acme:window");
    CHECK(out->direction == policy::Direction::outbound);
    CHECK(keep == flows);
    auto in = proxy::match_window(flows, ip("198.51.100.5"), ip("10.20.30.40"), 5900, now, keep);
    REQUIRE(in);
    CHECK(in->allow->name == "acme->pet-ct-1:window");

    CHECK(!proxy::match_window(flows, ip("10.20.30.40"), ip("198.51.100.5"), 22, now, keep));     // not its port
    CHECK(!proxy::match_window(flows, ip("10.20.30.40"), ip("198.51.100.16"), 443, now, keep));   // not its address
    CHECK(!proxy::match_window(flows, ip("10.20.30.41"), ip("198.51.100.5"), 443, now, keep));    // not the modality
    CHECK(!proxy::match_window(flows, ip("10.20.30.40"), ip("198.51.100.5"), 443, now + 2h, keep));  // ended
    // A window the policy no longer has is ignored; no window, no match.
    CHECK(proxy::build_window_flows(state, {privsep::OpenWindow{"pet-ct-1", "gone", ends, {}}})->entries.empty());
    CHECK(!proxy::match_window(proxy::build_window_flows(state, {}), ip("10.20.30.40"), ip("198.51.100.5"), 443, now, keep));
}
