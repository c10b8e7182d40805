// The window sets' elements as data: what open windows want, and the delta from what the kernel
// holds (add, delete, replace for a new timeout, nothing when already right).
#include "gateway/windows/elements.hpp"

#include "tests/unit/windows/kernel_policy.hpp"
#include "tests/unit/windows/test_support.hpp"

namespace {

using namespace modgate;
using namespace windows_test;
using windows::Elements;
using windows::Millis;
using windows::SetElements;

ruleset::Element element(const char* addr, std::uint64_t port, std::uint64_t timeout_ms) {
    ruleset::Element e;
    auto c = *policy::Cidr::parse(addr);
    e.key = {ruleset::Value{policy::Ipv4::parse("10.20.30.40").value()},
             c.is_host() ? ruleset::Value{c.addr} : ruleset::Value{c}, ruleset::Value{port}};
    e.timeout_ms = timeout_ms;
    return e;
}

std::vector<ruleset::Element> elements_of(const SetElements& s) {
    std::vector<ruleset::Element> out;
    for (const auto& [k, h] : s) out.push_back(h.element);
    return out;
}

struct Fixture {
    policy::Policy p = kernel_policy();
    windows::WindowSet set = windows::WindowSet::make(p).value();
    std::vector<policy::Ipv4> resolved;  // acme-remote's name
    Time t0 = utc("2026-03-02T10:00:00Z");

    windows::VendorAddresses addresses() const {
        windows::VendorAddresses out;
        for (const auto& v : p.vendors) out[v.name] = windows::vendor_addresses(v, v.name == "acme-remote" ? resolved : std::vector<policy::Ipv4>{});
        return out;
    }
    Elements want(Millis now) const { return windows::desired_elements(set, p, addresses(), now); }
    void open(const char* vendor, Time at, Seconds d) {
        REQUIRE(set.find("pet-ct-1", vendor)->open(at, d, windows::Who{0, "root"}, "CHG-1").has_value());
    }
};

}  // namespace

TEST_CASE("vendor addresses: fixed and resolved, sorted, no duplicates, no host inside a listed network") {
    policy::Vendor v;
    v.hosts = {{"remote.acme.example", std::nullopt, {}}, {"", policy::Cidr::parse("198.51.100.0/28"), {}}};
    auto ip = [](const char* s) { return policy::Ipv4::parse(s).value(); };
    auto got = windows::vendor_addresses(v, {ip("203.0.113.9"), ip("198.51.100.7"), ip("203.0.113.9")});
    CHECK(got == std::vector<policy::Cidr>{*policy::Cidr::parse("198.51.100.0/28"), *policy::Cidr::parse("203.0.113.9")});
}

TEST_CASE("a host prefix is keyed as its address, the form the kernel reads back") {
    auto a = element("203.0.113.9", 443, 0);
    auto b = a;
    b.key[1] = ruleset::Value{*policy::Cidr::parse("203.0.113.9/32")};
    CHECK(windows::key_of(a) == windows::key_of(b));
}

TEST_CASE_METHOD(Fixture, "no window open: nothing wanted, and what is held goes") {
    const Millis now = t0 + 250ms;
    CHECK(want(now) == Elements{});
    open("acme-lan", t0, 1h);
    auto held = want(now);
    CHECK(windows::delta(held, Elements{}, now) ==
          windows::Delta{{{}, {element("10.20.30.77", 22, 3600000)}, {}}, {}});
}

TEST_CASE_METHOD(Fixture, "open: one element per vendor address and port, inbound ports in the in set") {
    open("acme-remote", t0, 1h);
    const Millis now = t0 + 250ms;
    auto w = want(now);
    CHECK(elements_of(w.out) == std::vector{element("198.51.100.0/28", 443, 3600000), element("198.51.100.0/28", 8443, 3600000)});
    CHECK(elements_of(w.in) == std::vector{element("198.51.100.0/28", 5900, 3600000)});
    CHECK(w.out.begin()->second.ends == now + 1h);
    CHECK(w.out.begin()->second.element.origin.what == "maintenance window pet-ct-1/acme-remote");
    auto d = windows::delta(Elements{}, w, now);
    CHECK(d.out == windows::SetDelta{elements_of(w.out), {}, {}});
    CHECK(d.in == windows::SetDelta{elements_of(w.in), {}, {}});
    CHECK(windows::applied({}, w.out, d.out) == w.out);
}

TEST_CASE_METHOD(Fixture, "elements already right: an empty delta, also with a few seconds of drift") {
    open("acme-remote", t0, 1h);
    const Millis now = t0 + 250ms;
    auto have = want(now);
    // Later, the remaining time is shorter but the end the same.
    CHECK(windows::delta(have, want(now + 3s), now + 3s).empty());
    // Kernel timeouts drift by milliseconds: under 2 s is the same end.
    for (auto& [k, h] : have.out) h.ends += 1500ms;
    CHECK(windows::delta(have, want(now + 3s), now + 3s).empty());
    CHECK(windows::applied(have.out, want(now + 3s).out, {}) == have.out);  // the ends we knew stay
}

TEST_CASE_METHOD(Fixture, "extend: a new timeout replaces the element, never deletes it alone") {
    open("acme-remote", t0, 1h);
    auto have = want(t0);
    open("acme-remote", t0 + 10min, 2h);  // ends t0 + 2h10m
    const Millis now = t0 + 10min;
    auto w = want(now);
    auto d = windows::delta(have, w, now);
    CHECK(d.out.add.empty());
    CHECK(d.out.remove.empty());
    REQUIRE(d.out.replace.size() == 2);
    CHECK(d.out.replace[0] == windows::Replacement{element("198.51.100.0/28", 443, 3600000), element("198.51.100.0/28", 443, 7200000)});
    CHECK(d.in.replace == std::vector{windows::Replacement{element("198.51.100.0/28", 5900, 3600000), element("198.51.100.0/28", 5900, 7200000)}});
    CHECK(windows::applied(have.out, w.out, d.out) == w.out);
}

TEST_CASE_METHOD(Fixture, "close: every element of the window deleted, without the expiry read back") {
    open("acme-remote", t0, 1h);
    open("acme-lan", t0, 1h);
    auto have = want(t0);
    for (auto& [k, h] : have.out) h.element.expires_ms = 1234;
    set.find("pet-ct-1", "acme-remote")->close(t0 + 5min, windows::Who{0, "root"}, "done");
    auto w = want(t0 + 5min);
    auto d = windows::delta(have, w, t0 + 5min);
    CHECK(d.out == windows::SetDelta{{}, {element("198.51.100.0/28", 443, 3600000), element("198.51.100.0/28", 8443, 3600000)}, {}});
    CHECK(d.out.remove[0].expires_ms == 0);
    CHECK(d.in == windows::SetDelta{{}, {element("198.51.100.0/28", 5900, 3600000)}, {}});
    CHECK(elements_of(windows::applied(have.out, w.out, d.out)) == std::vector{element("10.20.30.77", 22, 3600000)});
}

TEST_CASE_METHOD(Fixture, "a vendor's addresses change: elements of the new address added, of the old deleted") {
    open("acme-remote", t0, 1h);
    resolved = {*policy::Ipv4::parse("203.0.113.9")};
    auto have = want(t0);
    resolved = {*policy::Ipv4::parse("203.0.113.10")};
    const Millis now = t0 + 30s;
    auto d = windows::delta(have, want(now), now);
    CHECK(d.out == windows::SetDelta{{element("203.0.113.10", 443, 3570000), element("203.0.113.10", 8443, 3570000)},
                                     {element("203.0.113.9", 443, 3600000), element("203.0.113.9", 8443, 3600000)},
                                     {}});
    CHECK(d.in == windows::SetDelta{{element("203.0.113.10", 5900, 3570000)}, {element("203.0.113.9", 5900, 3600000)}, {}});
}

TEST_CASE_METHOD(Fixture, "an element the kernel has timed out is not deleted, and added again if wanted") {
    open("acme-lan", t0, 1h);
    auto have = want(t0);
    have.out.begin()->second.ends = t0 - 1s;  // say the kernel's timeout was shorter
    CHECK(windows::delta(have, Elements{}, t0).empty());
    CHECK(windows::delta(have, want(t0), t0).out == windows::SetDelta{{element("10.20.30.77", 22, 3600000)}, {}, {}});
    // Less than a second past its end it may still be in the kernel: deleted.
    have.out.begin()->second.ends = t0 - 999ms;
    CHECK(windows::delta(have, Elements{}, t0).out.remove.size() == 1);
}

TEST_CASE_METHOD(Fixture, "a window past its end wants nothing, even before the tick that closes it") {
    open("acme-lan", t0, 1h);
    CHECK(want(t0 + 1h) == Elements{});
    CHECK(want(t0 + 1h - 1s).out.begin()->second.element.timeout_ms == 1000);
}
