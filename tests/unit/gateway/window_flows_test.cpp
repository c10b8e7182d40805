// The proxy's view of open maintenance windows: a diverted flow matches a window's synthetic
// allow only while the window is open, only between its modality and the vendor's addresses,
// and only on the vendor's ports (outbound) or the window's inbound ports.
#include <catch2/catch.hpp>

#include "gateway/proxy/window_flows.hpp"
#include "tests/unit/windows/kernel_policy.hpp"

using namespace modgate;
using namespace std::chrono_literals;

namespace {


policy::Ipv4 ip(const char* s) { return *policy::Ipv4::parse(s); }

}  // namespace

TEST_CASE("a window flow matches while its window is open, in both directions") {
    // pet-ct-1 at 10.20.30.40; acme-remote on ports 443 and 8443, inbound 5900 in its window.
    auto state = std::make_shared<const proxy::PolicyState>(windows_test::kernel_policy());
    auto now = std::chrono::system_clock::now();
    auto ends = std::chrono::duration_cast<std::chrono::milliseconds>((now + 1h).time_since_epoch()).count();
    privsep::OpenWindow w{"pet-ct-1", "acme-remote", ends, {policy::Cidr{ip("198.51.100.0"), 28}}};
    auto flows = proxy::build_window_flows(state, {w});
    std::shared_ptr<const void> keep;

    auto out = proxy::match_window(flows, ip("10.20.30.40"), ip("198.51.100.5"), 443, now, keep);
    REQUIRE(out);
    CHECK(out->allow->name == "pet-ct-1->acme-remote:window");
    CHECK(out->direction == policy::Direction::outbound);
    CHECK(keep == flows);
    auto in = proxy::match_window(flows, ip("198.51.100.5"), ip("10.20.30.40"), 5900, now, keep);
    REQUIRE(in);
    CHECK(in->allow->name == "acme-remote->pet-ct-1:window");

    CHECK(!proxy::match_window(flows, ip("10.20.30.40"), ip("198.51.100.5"), 22, now, keep));     // not its port
    CHECK(!proxy::match_window(flows, ip("10.20.30.40"), ip("198.51.100.16"), 443, now, keep));   // not its address
    CHECK(!proxy::match_window(flows, ip("10.20.30.41"), ip("198.51.100.5"), 443, now, keep));    // not the modality
    CHECK(!proxy::match_window(flows, ip("10.20.30.40"), ip("198.51.100.5"), 443, now + 2h, keep));  // ended
    // A window the policy no longer has is ignored; no window, no match.
    CHECK(proxy::build_window_flows(state, {privsep::OpenWindow{"pet-ct-1", "gone", ends, {}}})->entries.empty());
    CHECK(!proxy::match_window(proxy::build_window_flows(state, {}), ip("10.20.30.40"), ip("198.51.100.5"), 443, now, keep));
}
