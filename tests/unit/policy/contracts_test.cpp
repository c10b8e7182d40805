// Compiler-daemon contracts: the NFLOG prefix reads back what the compiler writes, foreign
// prefixes are refused, and the mode given to the compiler decides the ruleset.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "policy/compile.hpp"
#include "policy/contracts.hpp"
#include "policy/load.hpp"
#include "policy/render.hpp"

using namespace modgate;
using namespace modgate::policy;

TEST_CASE("every drop prefix reads back as the reason and direction it was written from") {
    for (auto reason : all_drop_reasons) {
        CHECK(drop_reason_from_string(to_string(reason)) == reason);
        for (auto dir : {Direction::outbound, Direction::inbound}) {
            const auto prefix = drop_prefix(reason, dir);
            INFO(prefix);
            auto parsed = parse_drop_prefix(prefix);
            REQUIRE(parsed);
            CHECK(*parsed == DropPrefix{reason, dir});
            // The chain and the prefix name the same rule.
            CHECK(drop_chain_name(reason, dir) == "drop_" + std::string(to_string(reason)) + "_" + to_string(dir));
        }
    }
}

TEST_CASE("the prefix format is the one the events document") {
    CHECK(drop_prefix(DropReason::flow, Direction::inbound) == "modgate:flow:in");
    CHECK(drop_prefix(DropReason::spoof, Direction::outbound) == "modgate:spoof:out");
    CHECK(drop_chain_name(DropReason::island, Direction::outbound) == "drop_island_out");
}

TEST_CASE("foreign and malformed prefixes are refused") {
    for (const char* bad : {"", "modgate", "modgate:", "modgate::", "modgate:flow", "modgate:flow:", "modgate::in",
                            "modgate:flow:in:", "modgate:flow:in:x", "modgate:flow:sideways", "modgate:nope:in",
                            "modgate:FLOW:in", "modgate:flow:IN", "other:flow:in", "xmodgate:flow:in",
                            " modgate:flow:in", "modgate:flow:in ", "modgate:flow_in", "flow:in",
                            "modgate:flow:in\n"}) {
        INFO('"' << bad << '"');
        CHECK_FALSE(parse_drop_prefix(bad));
    }
    CHECK_FALSE(drop_reason_from_string(""));
    CHECK_FALSE(drop_reason_from_string("islands"));
    CHECK_FALSE(direction_from_string("outbound"));
    CHECK(direction_from_string("out") == Direction::outbound);
    CHECK(direction_from_string("in") == Direction::inbound);
}

namespace {

std::string policy_text(const char* mode) {
    return std::string(R"([gateway]
modality_port = "gs0"
network_port = "gh0"
mode = ")") + mode + R"("

[[modality]]
name = "ct-1"
ip = "10.50.0.20/24"
mac = "00:16:3e:50:00:20"
router = "10.50.0.1"

[[peer]]
name = "pacs"
ip = "10.60.0.5"
dicom = { ae_title = "PACS", port = 104 }

[[vendor]]
name = "v"
hosts = ["203.0.113.10"]
ports = [443]

[[allow]]
modality = "ct-1"
to = "pacs"
service = "dicom"
dimse = ["C-STORE"]
sop_classes = ["CT"]

[[maintenance]]
modality = "ct-1"
vendor = "v"
schedule = ["Sat 02:00-06:00"]
)";
}

Policy must_load(const std::string& text) {
    auto r = load_string(text, "t.toml");
    INFO(r.report());
    REQUIRE(r.policy);
    return *r.policy;
}

}  // namespace

TEST_CASE("the mode given to the compiler, not the file's, decides the ruleset") {
    const auto enforce_file = must_load(policy_text("enforce"));
    const auto island_file = must_load(policy_text("island"));

    // The daemon's run-time switch gives exactly what a policy saying island compiles to.
    const auto switched = compile(enforce_file, Mode::island);
    CHECK(switched == compile(island_file));
    CHECK(ruleset::render_file(switched) == ruleset::render_file(compile(island_file)));

    CHECK(compile(enforce_file, Mode::enforce) == compile(enforce_file));
    CHECK(compile(island_file, Mode::enforce) == compile(enforce_file));
    CHECK(compile(enforce_file, Mode::enforce) != switched);
    CHECK(ruleset::render_file(compile(enforce_file, Mode::enforce)) != ruleset::render_file(switched));
}

TEST_CASE("learn mode has no compiler yet") {
    const auto p = must_load(policy_text("enforce"));
    CHECK_THROWS_AS(compile(p, Mode::learn), std::logic_error);
}
