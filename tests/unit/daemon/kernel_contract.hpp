// What the daemon relies on from a Kernel, as scenarios run against the fake (unit.daemon) and
// against the real kernel in a network namespace (integration.daemon.kernel_contract), so the
// fake cannot drift into accepting what the kernel refuses or reporting what it does not.
#pragma once
#include <poll.h>

#include <catch2/catch.hpp>

#include "gateway/daemon/kernel.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"

namespace modgate::daemon::testing {

struct KernelDriver {
    virtual ~KernelDriver() = default;
    virtual Kernel& kernel() = 0;
    // Someone else deletes modgate's inet table (as `nft delete table inet modgate` does).
    virtual void foreign_delete_inet_table() = 0;
};

// Everything the monitor says within `ms`, foreign changes and errors joined.
inline MonitorRead read_monitor(Kernel& k, int ms) {
    MonitorRead all;
    pollfd p{k.monitor_fd(), POLLIN, 0};
    while (::poll(&p, 1, ms) > 0) {
        auto m = k.process_monitor();
        all.foreign += m.foreign;
        all.error += m.error;
        ms = 100;  // the rest of a burst arrives together
    }
    return all;
}

inline ruleset::Ruleset contract_ruleset(const char* source_dir) {
    auto r = policy::load_file(std::string(source_dir) + "/policy/examples/pet-ct-win7.toml");
    REQUIRE(r.policy);
    return policy::compile(*r.policy);
}

inline void kernel_contract(KernelDriver& d, const ruleset::Ruleset& rs) {
    auto& k = d.kernel();
    SECTION("apply puts the tables in; our own apply is not a foreign change") {
        CHECK_FALSE(k.tables_present(rs));
        REQUIRE(k.apply(rs));
        CHECK(k.tables_present(rs));
        auto m = read_monitor(k, 300);
        CHECK(m.foreign.empty());
        CHECK(m.error.empty());
    }
    SECTION("every drop chain has a counter, keyed reason:dir, zero before any packet") {
        REQUIRE(k.apply(rs));
        auto c = k.drop_counters(rs);
        CHECK(c.contains("flow:out"));
        CHECK(c.contains("spoof:in"));
        CHECK(c.contains("ipv6:out"));
        for (const auto& [key, n] : c) {
            INFO(key);
            CHECK(policy::parse_drop_prefix("modgate:" + key));
            CHECK(n == 0);
        }
    }
    SECTION("a refused ruleset changes nothing and names the rule's policy line") {
        REQUIRE(k.apply(rs));
        auto bad = rs;
        auto& chain = bad.tables.back().chains.back();
        ruleset::Rule typo{{ruleset::Verdict{ruleset::Verdict::Kind::jump, "no_such_chain"}}, "", {"a typo", 42, 7}};
        chain.rules.push_back(typo);
        auto r = k.apply(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().origin.line == 42);
        CHECK(r.error().origin.col == 7);
        CHECK(k.tables_present(rs));
    }
    SECTION("a foreign delete is reported, the tables are gone, and an apply puts them back") {
        REQUIRE(k.apply(rs));
        (void)read_monitor(k, 300);
        d.foreign_delete_inet_table();
        auto m = read_monitor(k, 1000);
        CHECK(m.foreign.find("modgate") != std::string::npos);
        CHECK_FALSE(k.tables_present(rs));
        REQUIRE(k.apply(rs));
        CHECK(k.tables_present(rs));
        CHECK(read_monitor(k, 300).foreign.empty());
    }
}

}  // namespace modgate::daemon::testing
