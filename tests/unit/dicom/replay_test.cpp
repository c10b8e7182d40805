// Replays the fuzz seed corpus (real DCMTK associations captured on loopback, and encoder-made
// ones) through the association and filter, and checks how each one ends. The captures are
// the interop test: echoscu, storescu, findscu, getscu and movescu against dcmqrscp.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "dicom_fuzz_input.hpp"
#include "test_support.hpp"

using namespace dicom_test;

namespace {

struct Expected {
    bool aborted;   // modgate aborted the association
    Error error;    // why, when it did
    std::uint32_t refused;  // DIMSE requests refused by the policy
};

// How every seed must end. A new seed needs a line here.
const std::map<std::string, Expected>& expectations() {
    static const std::map<std::string, Expected> table{
        {"dcmtk-echo", {false, Error::none, 0}},
        {"dcmtk-store-all-contexts", {false, Error::none, 0}},
        {"dcmtk-store-required-identity", {false, Error::none, 0}},
        {"dcmtk-find", {false, Error::none, 0}},
        {"dcmtk-get", {false, Error::none, 0}},
        {"dcmtk-move", {false, Error::none, 0}},
        // modgate refuses the destination itself (0xA801); the captured PACS then answers a
        // request it never received in this replay: a response to nothing outstanding.
        {"dcmtk-move-unknown-destination", {true, Error::unexpected_response, 1}},
        {"gen-echo", {false, Error::none, 0}},
        {"gen-echo-policy", {false, Error::none, 0}},
        {"gen-store-split", {false, Error::none, 0}},
        {"gen-store-small-pdu", {false, Error::none, 0}},
        {"gen-find-cancel", {false, Error::none, 0}},
        {"gen-get-suboperations", {false, Error::none, 1}},
        {"gen-move-and-refusals", {false, Error::none, 2}},
        {"gen-release-collision", {false, Error::none, 0}},
        {"gen-reject-calling-ae", {false, Error::none, 0}},
        {"gen-reject-by-acceptor", {false, Error::none, 0}},
        {"gen-all-items", {false, Error::none, 0}},
    };
    return table;
}

std::vector<std::uint8_t> read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Summary {
    std::vector<std::pair<Action, std::size_t>> verdicts;
    Verdict last;
    AssociationState state;
    Stats stats;
};

Summary replay(const std::vector<std::uint8_t>& input, bool bytewise) {
    Summary s;
    dicom_fuzz::Replay r(input.data(), input.size());
    r.run(bytewise, [&](Side, const Step& step, Bytes) {
        s.verdicts.emplace_back(step.verdict.action, step.consumed);
        s.last = step.verdict;
        return true;
    });
    s.state = r.association().state();
    s.stats = r.association().stats();
    return s;
}

}  // namespace

TEST_CASE("every seed of the fuzz corpus ends as expected", "[dicom][replay]") {
    std::size_t seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(MODGATE_DICOM_CORPUS)) {
        const std::string name = entry.path().filename().string();
        INFO("seed " << name);
        const auto e = expectations().find(name);
        REQUIRE(e != expectations().end());
        ++seen;
        const auto input = read(entry.path());
        const Summary s = replay(input, false);
        INFO("last verdict: " << to_string(s.last.action) << " " << s.last.reason);
        CHECK(s.state == AssociationState::closed);
        CHECK(s.last.close);
        CHECK((s.last.action == Action::abort) == e->second.aborted);
        if (e->second.aborted) CHECK(s.last.error.error == e->second.error);
        std::uint32_t refused = 0;
        for (const auto& c : s.stats.requests) refused += c.refused;
        CHECK(refused == e->second.refused);
        if (input.size() <= 4096) CHECK(replay(input, true).verdicts == s.verdicts);
    }
    CHECK(seen == expectations().size());
}

TEST_CASE("storescu's 100-odd proposed contexts pass the permissive policy unchanged", "[dicom][replay]") {
    const auto input = read(std::filesystem::path(MODGATE_DICOM_CORPUS) / "dcmtk-store-all-contexts");
    const Summary s = replay(input, false);
    CHECK(s.stats.contexts_proposed > 100);
    CHECK(s.stats.contexts_rejected_by_policy == 0);
    CHECK(s.stats.requests[static_cast<std::size_t>(dimse_index(command::c_store))].forwarded == 2);
    CHECK(s.stats.responses == 2);
}

TEST_CASE("getscu's sub-operations are forwarded while its C-GET is outstanding", "[dicom][replay]") {
    const auto input = read(std::filesystem::path(MODGATE_DICOM_CORPUS) / "dcmtk-get");
    const Summary s = replay(input, false);
    CHECK(s.stats.requests[static_cast<std::size_t>(dimse_index(command::c_get))].forwarded == 1);
    CHECK(s.stats.requests[static_cast<std::size_t>(dimse_index(command::c_store))].forwarded == 2);
    CHECK(s.stats.requests[static_cast<std::size_t>(dimse_index(command::c_store))].refused == 0);
}
