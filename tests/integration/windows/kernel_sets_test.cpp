// The contract between the unit tests' fake window sets and the kernel: the same deltas written
// through NetlinkKernelSets and through the fake end with both holding the same elements, the
// same timeouts and (to a second) the same ends. Root, inside a fresh network namespace.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <thread>

#include "gateway/daemon/window_manager.hpp"
#include "gateway/nft/apply.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"
#include "tests/unit/windows/fake_kernel_sets.hpp"

namespace {

using namespace modgate;
using namespace std::chrono_literals;
using windows::Millis;

Millis clock_now() { return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()); }

ruleset::Element element(const char* vendor_addr, std::uint64_t port, std::uint64_t timeout_ms) {
    ruleset::Element e;
    e.key = {ruleset::Value{*policy::Ipv4::parse("10.20.30.40")}, ruleset::Value{*policy::Ipv4::parse(vendor_addr)},
             ruleset::Value{port}};
    e.timeout_ms = timeout_ms;
    return e;
}

struct Contract {
    policy::Policy p;
    ruleset::Ruleset compiled;
    ruleset::Set out_def, in_def;
    std::optional<daemon::NetlinkKernelSets> kernel;
    windows_test::FakeKernelSets fake;
    std::vector<policy::Ipv4> resolved;

    Contract() {
        auto r = policy::load_file(MODGATE_SOURCE_DIR "/policy/examples/pet-ct-win7.toml");
        INFO(r.report());
        REQUIRE(r.policy);
        p = *r.policy;
        compiled = policy::compile(p);
        auto applied = nft::apply(compiled);
        INFO((applied ? std::string() : applied.error().message));
        REQUIRE(applied);
        const auto* t = compiled.find(ruleset::Family::inet, policy::names::table);
        REQUIRE(t);
        out_def = *t->find_set(policy::names::window_set);
        in_def = *t->find_set(policy::names::window_in_set);
        out_def.elements.clear();
        in_def.elements.clear();
        auto k = daemon::NetlinkKernelSets::open();
        REQUIRE(k);
        kernel.emplace(std::move(*k));
    }

    windows::Elements want(const windows::WindowSet& ws, Millis now) const {
        windows::VendorAddresses a;
        for (const auto& v : p.vendors) a[v.name] = windows::vendor_addresses(v, resolved);
        return windows::desired_elements(ws, p, a, now);
    }
    windows::Elements held() {
        auto r = kernel->read();
        INFO((r ? std::string() : r.error()));
        REQUIRE(r);
        return *r;
    }
    // The delta from what the kernel holds to `w`, written to both; then both must agree.
    windows::Delta sync(const windows::Elements& w, Millis now) {
        auto d = windows::delta(held(), w, now);
        write(d);
        return d;
    }
    void write(const windows::Delta& d) {
        for (auto [def, sd] : {std::pair{&out_def, &d.out}, std::pair{&in_def, &d.in}}) {
            if (sd->empty()) continue;
            auto k = kernel->write(*def, *sd);
            INFO((k ? std::string() : k.error()));
            REQUIRE(k);
            REQUIRE(fake.write(*def, *sd));
        }
        same();
    }
    void same() {
        auto k = held();
        auto f = fake.read().value();
        for (auto [ks, fs] : {std::pair{&k.out, &f.out}, std::pair{&k.in, &f.in}}) {
            REQUIRE(ks->size() == fs->size());
            for (const auto& [key, h] : *ks) {
                REQUIRE(fs->contains(key));
                CHECK(fs->at(key).element == h.element);  // key, timeout, comment
                CHECK(std::chrono::abs(fs->at(key).ends - h.ends) < 1500ms);
            }
        }
    }
};

}  // namespace

TEST_CASE_METHOD(Contract, "open, already right, extend, addresses change, close: kernel and fake agree") {
    auto ws = windows::WindowSet::make(p).value();
    auto* w = ws.find("pet-ct-1", "vendor-remote");
    REQUIRE(w);
    const auto start = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    REQUIRE(w->open(start, 10min, {0, "root"}, "contract").has_value());
    auto d = sync(want(ws, clock_now()), clock_now());
    CHECK(d.out.add.size() == 1);
    CHECK(held().out.size() == 1);

    auto now = clock_now();
    CHECK(windows::delta(held(), want(ws, now), now).empty());

    REQUIRE(w->open(start, 1h, {0, "root"}, "contract").has_value());
    d = sync(want(ws, clock_now()), clock_now());
    REQUIRE(d.out.replace.size() == 1);
    CHECK(held().out.begin()->second.element.timeout_ms > 50 * 60 * 1000);

    resolved = {*policy::Ipv4::parse("198.51.100.20")};
    d = sync(want(ws, clock_now()), clock_now());
    CHECK(d.out.add.size() == 1);
    CHECK(held().out.size() == 2);
    resolved.clear();
    d = sync(want(ws, clock_now()), clock_now());
    CHECK(d.out.remove.size() == 1);
    CHECK(held().out.size() == 1);

    w->close(windows::Time(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())), {0, "root"}, "done");
    d = sync(want(ws, clock_now()), clock_now());
    CHECK(d.out.remove.size() == 1);
    CHECK(held().out.empty());
}

TEST_CASE_METHOD(Contract, "the inbound set, and deleting an element that timed out meanwhile") {
    write({{}, {{element("203.0.113.10", 5900, 60000)}, {}, {}}});
    CHECK(held().in.size() == 1);
    write({{{element("203.0.113.10", 443, 1000)}, {}, {}}, {}});
    std::this_thread::sleep_for(2500ms);
    same();
    CHECK(held().out.empty());
    write({{{}, {element("203.0.113.10", 443, 1000)}, {}}, {{}, {element("203.0.113.10", 5900, 60000)}, {}}});
    CHECK(held().in.empty());
}

// delta() never asks for this (a new end is a replacement), but a stale view could: the fake
// follows kernels that give a re-added element its new timeout.
TEST_CASE_METHOD(Contract, "adding an element the set holds gives it the new timeout") {
    write({{{element("203.0.113.10", 443, 60000)}, {}, {}}, {}});
    const windows::SetDelta again{{element("203.0.113.10", 443, 120000)}, {}, {}};
    REQUIRE(kernel->write(out_def, again));
    if (held().out.begin()->second.element.timeout_ms == 60000) {
        WARN("this kernel keeps a re-added element's timeout (no element timeout updates): the fake does not");
        return;
    }
    REQUIRE(fake.write(out_def, again));
    same();
}
