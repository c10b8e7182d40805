// Parser and validator: what the examples load into, and the diagnostics rules in one pass.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "policy/load.hpp"
#include "policy/sop_classes.hpp"

using namespace modgate::policy;

namespace {

std::string read(const std::string& path) {
    std::ifstream in(std::string(MODGATE_SOURCE_DIR) + "/" + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const std::string header = "[gateway]\nmodality_port = \"gs0\"\nnetwork_port = \"gh0\"\n";

LoadResult load(const std::string& body) { return load_string(header + body, "t.toml"); }

bool has_diag(const LoadResult& r, Severity s, std::uint32_t line, std::string_view text) {
    return std::any_of(r.diagnostics.all().begin(), r.diagnostics.all().end(), [&](const Diagnostic& d) {
        return d.severity == s && d.loc.line == line && d.message.find(text) != std::string::npos;
    });
}

}  // namespace

TEST_CASE("the PET/CT example loads into the expected model") {
    auto r = load_string(read("policy/examples/pet-ct-win7.toml"), "pet-ct-win7.toml");
    INFO(r.report());
    REQUIRE(r.policy);
    const auto& p = *r.policy;
    CHECK(r.diagnostics.all().empty());
    CHECK(p.gateway.modality_port == "gs0");
    CHECK(p.gateway.management->dns.size() == 1);
    REQUIRE(p.modalities.size() == 1);
    CHECK(p.modalities[0].ip.str() == "10.20.30.40/24");
    CHECK(p.modalities[0].dicom->ae_title == "PETCT1");
    REQUIRE(p.allows.size() == 5);
    const auto& store = p.allows[0];
    CHECK(store.name == "pet-ct-1->pacs:dicom");
    CHECK(store.direction == Direction::outbound);
    CHECK(store.ports == std::vector<PortSpec>{{Proto::tcp, 104}});
    CHECK(std::count(store.dimse.begin(), store.dimse.end(), Dimse::n_action) == 1);
    auto has_uid = [](const Allow& a, std::string_view uid) {
        return std::any_of(a.sop_classes.begin(), a.sop_classes.end(), [&](const SopClass& s) { return s.uid == uid; });
    };
    CHECK(has_uid(store, "1.2.840.10008.5.1.4.1.1.128"));  // PET
    CHECK(has_uid(store, "1.2.840.10008.1.1"));            // Verification, implied by C-ECHO
    CHECK(has_uid(store, "1.2.840.10008.1.20.1"));         // StorageCommitment
    CHECK(p.allows[1].direction == Direction::inbound);
    CHECK(p.allows[1].ports == std::vector<PortSpec>{{Proto::tcp, 104}});  // the modality's own SCP port
    CHECK(p.allows[3].ports == std::vector<PortSpec>{{Proto::udp, 123}});
    CHECK(p.allows[4].ports == std::vector<PortSpec>{{Proto::udp, 53}, {Proto::tcp, 53}});
    REQUIRE(p.maintenance.size() == 1);
    CHECK(p.maintenance[0].schedule.size() == 1);
    CHECK(p.maintenance[0].schedule[0].str() == "Sat 02:00-06:00");
    CHECK(p.maintenance[0].max_duration == Seconds{4 * 3600});
    CHECK(p.vendors[0].hosts[0].fqdn == "remote.vendor.example");
    CHECK(p.vendors[0].hosts[1].address->str() == "203.0.113.10");
}

TEST_CASE("every example policy is valid") {
    for (auto name : {"minimal", "pet-ct-win7", "xray-room"}) {
        auto r = load_string(read(std::string("policy/examples/") + name + ".toml"), name);
        INFO(name << "\n" << r.report());
        CHECK(r.policy);
        CHECK(r.report().ends_with("policy OK\n"));
    }
}

TEST_CASE("a TOML syntax error stops at the first problem with its position") {
    auto r = load_string("[gateway]\nmodality_port = \"gs0\nnetwork_port = 3\n", "t.toml");
    CHECK_FALSE(r.policy);
    REQUIRE(r.diagnostics.errors() == 1);
    CHECK(r.diagnostics.all()[0].loc.line == 2);
    CHECK(r.diagnostics.all()[0].message.starts_with("TOML syntax"));
}

TEST_CASE("semantic errors are all reported in one pass, in file order") {
    auto r = load(R"(
[[modality]]
name = "m"
ip = "10.0.0.10"
mac = "zz"

[[peer]]
name = "m"
ip = "10.0.1.0/16"

[[allow]]
modality = "nope"
to = "p"
service = "smb"
)");
    CHECK_FALSE(r.policy);
    CHECK(has_diag(r, Severity::error, 7, "not an address with prefix length"));
    CHECK(has_diag(r, Severity::error, 8, "not a MAC address"));
    CHECK(has_diag(r, Severity::error, 11, "already used by a modality"));
    CHECK(has_diag(r, Severity::error, 12, "not an IPv4 address or network"));
    CHECK(has_diag(r, Severity::error, 15, "no modality named 'nope'"));
    CHECK(has_diag(r, Severity::error, 16, "no peer named 'p'"));
    CHECK(has_diag(r, Severity::error, 17, "unknown service 'smb'"));
    CHECK(r.diagnostics.errors() == 7);
    auto all = r.diagnostics.all();
    CHECK(std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.loc < b.loc; }));
}

TEST_CASE("warnings alone leave the policy usable") {
    auto r = load(R"(
[[modality]]
name = "m"
ip = "10.0.0.10/24"
mac = "00:16:3e:00:00:10"
)");
    REQUIRE(r.policy);
    CHECK(r.diagnostics.warnings() == 1);
    CHECK(r.report().ends_with("policy OK (1 warning)\n"));
}

TEST_CASE("unknown keys get a suggestion at the key") {
    auto r = load("mdoe = \"enforce\"\n");
    REQUIRE(r.diagnostics.errors() == 1);
    const auto& d = r.diagnostics.all()[0];
    CHECK(d.loc.line == 4);
    CHECK(d.loc.col == 1);
    CHECK(d.hint == "did you mean 'mode'?");
}

TEST_CASE("diagnostics print file, position, source line, caret and hint") {
    Diagnostic d{Severity::error, {2, 5}, "bad thing", "fix it"};
    CHECK(format(d, "f.toml", "line one\n\tab = 1\n") == "f.toml:2:5: error: bad thing\n  \tab = 1\n  \t   ^\n  hint: fix it\n");
}

TEST_CASE("schedules and durations") {
    std::string err;
    auto s = parse_slot("Mon-Fri 22:00-02:00", err);
    REQUIRE(s);
    CHECK(s->days == 0x1f);
    CHECK(s->minutes() == 240);
    CHECK(parse_slot("Fri-Mon 00:00-24:00", err)->days == (0x10 | 0x20 | 0x40 | 0x01));
    CHECK(parse_slot("daily 01:00-03:30", err)->minutes() == 150);
    CHECK(parse_slot("sat,SUN 10:00-11:00", err)->days == 0x60);
    CHECK_FALSE(parse_slot("Sat 24:00-01:00", err));
    CHECK_FALSE(parse_slot("Sat 02:00", err));
    CHECK_FALSE(parse_slot("Sat, 02:00-03:00", err));
}

TEST_CASE("UIDs and friendly SOP class names") {
    CHECK(valid_uid("1.2.840.10008.1.1"));
    CHECK_FALSE(valid_uid("1.2.840.10008.01.1"));
    CHECK_FALSE(valid_uid("1.2..3"));
    CHECK_FALSE(valid_uid(".1.2"));
    CHECK_FALSE(valid_uid(std::string(65, '1')));
    REQUIRE(find_sop_class_group("pet"));
    CHECK(find_sop_class_group("PET")->uids[0] == "1.2.840.10008.5.1.4.1.1.128");
    for (const auto& g : sop_class_groups())
        for (auto uid : g.uids) CHECK(valid_uid(uid));
}

TEST_CASE("a dicom allow needs the peer's AE title and, inbound, the modality's SCP") {
    auto r = load(R"(
[[modality]]
name = "m"
ip = "10.0.0.10/24"
mac = "00:16:3e:00:00:10"

[[peer]]
name = "p"
ip = "10.0.0.5"

[[allow]]
modality = "m"
from = "p"
service = "dicom"
dimse = ["C-STORE"]
sop_classes = ["CT"]
)");
    CHECK(has_diag(r, Severity::error, 16, "peer 'p' has no dicom.ae_title"));
    CHECK(has_diag(r, Severity::error, 15, "modality 'm' has no dicom table"));
}
