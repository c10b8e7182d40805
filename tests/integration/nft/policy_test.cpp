// Every golden policy (tests/golden/policy/ok) and every example (policy/examples), compiled and
// applied through the netlink engine, must load exactly what `nft -f` of the rendered text loads,
// survive a re-apply, diff clean, and pass check mode without changing anything.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <filesystem>

#include "gateway/nft/apply.hpp"
#include "gateway/nft/diff.hpp"
#include "gateway/nft/readback.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"
#include "tests/integration/nft/harness.hpp"

using namespace modgate;
using namespace modgate::nfttest;

namespace {

std::vector<std::filesystem::path> policies() {
    std::vector<std::filesystem::path> out;
    for (const char* dir : {"tests/golden/policy/ok", "policy/examples"}) {
        const auto d = std::filesystem::path(MODGATE_SOURCE_DIR) / dir;
        if (!std::filesystem::exists(d)) continue;
        for (const auto& e : std::filesystem::directory_iterator(d))
            if (e.path().extension() == ".toml") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("golden and example policies apply exactly as nft -f loads them", "[policies]") {
    const auto files = policies();
    REQUIRE_FALSE(files.empty());  // the harness must have something to prove
    for (const auto& path : files) {
        INFO(path.string());
        auto loaded = policy::load_file(path.string());
        INFO(loaded.report());
        REQUIRE(loaded.policy.has_value());
        const auto rs = policy::compile(*loaded.policy);
        must("nft flush ruleset");
        nft::ApplyOptions check;
        check.check = true;
        auto checked = nft::apply(rs, check);
        INFO((checked ? std::string() : checked.error().message));
        CHECK(checked.has_value());
        CHECK(must("nft list ruleset").empty());
        for (int pass = 0; pass < 2; ++pass) {  // load, then reload over the loaded tables
            auto r = nft::apply(rs);
            INFO("pass " << pass << ": " << (r ? std::string() : r.error().message));
            REQUIRE(r.has_value());
            for (const auto& problem : compare_with_nft(rs)) {
                INFO(problem);
                CHECK(false);
            }
        }
        auto snap = nft::read_tables(nft::ids_of(rs));
        REQUIRE(snap.has_value());
        for (const auto& t : snap->tables)
            for (const auto& chain : t.rules)
                for (const auto& r : chain) CHECK(r.exact);
        auto d = nft::diff(rs, *snap);
        INFO(d.text());
        CHECK(d.empty());
        const auto before = must("nft list ruleset");
        CHECK(nft::apply(rs, check).has_value());
        CHECK(must("nft list ruleset") == before);
    }
}

int main(int argc, char** argv) {
    if (int rc = run_helper(argc, argv); rc >= 0) return rc;
    return Catch::Session().run(argc, argv);
}
