// SNI patterns from a vendor's tls_sni list: exact names, the "*." wildcard over one or more
// labels (never the bare domain), trailing dots, case, and names or patterns that match nothing.
#include "gateway/vendors/tls_sni.hpp"

#include <catch2/catch.hpp>

using modgate::vendors::sni_allowed;
using modgate::vendors::sni_matches;

TEST_CASE("sni_matches", "[sni_match]") {
    struct Case {
        const char* name;
        const char* pattern;
        bool match;
    };
    const Case cases[] = {
        // wildcard: one or more labels before the domain
        {"a.vendor.example", "*.vendor.example", true},
        {"a.b.vendor.example", "*.vendor.example", true},
        {"a.b.c.d.vendor.example", "*.vendor.example", true},
        {"x-1.vendor.example", "*.vendor.example", true},
        {"A.Vendor.EXAMPLE", "*.vendor.example", true},
        {"a.vendor.example", "*.VENDOR.example", true},
        {"a.vendor.example.", "*.vendor.example", true},   // absolute name
        {"a.vendor.example", "*.vendor.example.", true},
        {"vendor.example", "*.vendor.example", false},     // never the bare domain
        {"vendor.example.", "*.vendor.example", false},
        {"xvendor.example", "*.vendor.example", false},    // a label boundary, not a suffix
        {"a.xvendor.example", "*.vendor.example", false},
        {"a.vendor.example.evil", "*.vendor.example", false},
        {"a.vendor.examplex", "*.vendor.example", false},
        {"vendor.example.a", "*.vendor.example", false},
        {"a.vendor.exampl", "*.vendor.example", false},
        {"example", "*.vendor.example", false},
        {"a.example", "*.vendor.example", false},
        {".vendor.example", "*.vendor.example", false},    // empty label
        {"a..vendor.example", "*.vendor.example", false},
        {"a.vendor.example..", "*.vendor.example", false},
        {"", "*.vendor.example", false},
        {".", "*.vendor.example", false},
        {"a_b.vendor.example", "*.vendor.example", false}, // not a host name at all
        {"*.vendor.example", "*.vendor.example", false},
        // exact
        {"remote.vendor.example", "remote.vendor.example", true},
        {"REMOTE.vendor.Example", "remote.vendor.example", true},
        {"remote.vendor.example", "Remote.Vendor.Example", true},
        {"remote.vendor.example.", "remote.vendor.example", true},
        {"remote.vendor.example", "remote.vendor.example.", true},
        {"a.remote.vendor.example", "remote.vendor.example", false},
        {"remote.vendor.example.evil", "remote.vendor.example", false},
        {"xremote.vendor.example", "remote.vendor.example", false},
        {"emote.vendor.example", "remote.vendor.example", false},
        {"203.0.113.10", "203.0.113.10", true},
        // patterns that match nothing: other wildcards, empty, malformed
        {"a.vendor.example", "*", false},
        {"a.vendor.example", "*.", false},
        {"a.vendor.example", "*vendor.example", false},
        {"avendor.example", "*vendor.example", false},
        {"a.vendor.example", "a.*.example", false},
        {"a.b.vendor.example", "*.*.vendor.example", false},
        {"a.vendor.example", "**.vendor.example", false},
        {"a.vendor.example", "", false},
        {"", "", false},
        {"a.vendor.example", "a..vendor.example", false},
        {"a.vendor.example", ".vendor.example", false},
        {"vendor.example", "*..vendor.example", false},
    };
    for (const Case& c : cases) {
        INFO("name '" << c.name << "' pattern '" << c.pattern << "'");
        CHECK(sni_matches(c.name, c.pattern) == c.match);
    }
}

TEST_CASE("sni_allowed takes any matching pattern", "[sni_match]") {
    const std::vector<std::string> patterns{"*.vendor.example", "update.other.example"};
    CHECK(sni_allowed("remote.vendor.example", patterns));
    CHECK(sni_allowed("Update.Other.Example", patterns));
    CHECK_FALSE(sni_allowed("vendor.example", patterns));
    CHECK_FALSE(sni_allowed("other.example", patterns));
    CHECK_FALSE(sni_allowed("x.update.other.example", patterns));
    CHECK_FALSE(sni_allowed("remote.vendor.example", {}));
    CHECK_FALSE(sni_allowed("", patterns));
}
