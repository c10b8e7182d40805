// The compiler: what each allow becomes, modes, normalisation, determinism and scale.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "policy/compile.hpp"
#include "policy/load.hpp"
#include "policy/render.hpp"
#include "tests/lib/policy_gen.hpp"

using namespace modgate;
using namespace modgate::policy;
using ruleset::Family;

namespace {

Policy must_load(const std::string& text) {
    auto r = load_string(text, "t.toml");
    INFO(r.report());
    REQUIRE(r.policy);
    return *r.policy;
}

std::string read(const std::string& path) {
    std::ifstream in(std::string(MODGATE_SOURCE_DIR) + "/" + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::size_t rule_count(const ruleset::Ruleset& rs) {
    std::size_t n = 0;
    for (const auto& t : rs.tables)
        for (const auto& c : t.chains) n += c.rules.size();
    return n;
}

std::vector<std::string> elements(const ruleset::Ruleset& rs, Family f, const char* set) {
    const auto* t = rs.find(f, names::table);
    REQUIRE(t);
    const auto* s = t->find_set(set);
    REQUIRE(s);
    std::vector<std::string> out;
    for (const auto& e : s->elements) {
        std::string x;
        for (std::size_t i = 0; i < e.key.size(); ++i)
            x += (i ? " . " : "") + ruleset::render_key_value(s->key[i], e.key[i]);
        out.push_back(x);
    }
    return out;
}

const std::string base = R"([gateway]
modality_port = "gs0"
network_port = "gh0"

[[modality]]
name = "m"
ip = "10.0.0.10/24"
mac = "00:16:3e:00:00:10"
router = "10.0.0.1"
dicom = { ae_title = "M", port = 11112 }

[[peer]]
name = "pacs"
ip = "10.1.0.5"
dicom = { ae_title = "PACS", port = 104 }

[[peer]]
name = "near"
ip = "10.0.0.128/25"
)";

}  // namespace

TEST_CASE("allows become set elements in the right sets") {
    auto p = must_load(base + R"(
[[allow]]
modality = "m"
to = "pacs"
service = "dicom"
dimse = ["C-STORE"]
sop_classes = ["CT"]

[[allow]]
modality = "m"
from = "pacs"
service = "dicom"
dimse = ["N-EVENT-REPORT"]
sop_classes = ["StorageCommitment"]

[[allow]]
modality = "m"
to = "near"
service = "dns"
)");
    auto rs = compile(p);
    using V = std::vector<std::string>;
    CHECK(elements(rs, Family::inet, "out_tcp") == V{"10.0.0.10 . 10.0.0.128/25 . 53", "10.0.0.10 . 10.1.0.5 . 104"});
    CHECK(elements(rs, Family::inet, "out_udp") == V{"10.0.0.10 . 10.0.0.128/25 . 53"});
    CHECK(elements(rs, Family::inet, "in_tcp") == V{"10.0.0.10 . 10.1.0.5 . 11112"});
    CHECK(elements(rs, Family::inet, "in_udp").empty());
    CHECK(elements(rs, Family::bridge, "stations") == V{"00:16:3e:00:00:10 . 10.0.0.10"});
    // ARP: to the router, and to the same-subnet peer; never to the off-subnet PACS.
    CHECK(elements(rs, Family::bridge, "arp_pairs") == V{"10.0.0.10 . 10.0.0.1", "10.0.0.10 . 10.0.0.128/25"} );
}

TEST_CASE("elements inside wider ones are dropped (the kernel refuses overlaps)") {
    auto p = must_load(base + R"(
[[peer]]
name = "one"
ip = "10.0.0.200"

[[allow]]
modality = "m"
to = "near"
service = "tcp"
ports = [80]

[[allow]]
modality = "m"
to = "one"
service = "tcp"
ports = [80, 81]
)");
    auto rs = compile(p);
    CHECK(elements(rs, Family::inet, "out_tcp") ==
          std::vector<std::string>{"10.0.0.10 . 10.0.0.128/25 . 80", "10.0.0.10 . 10.0.0.200 . 81"});
}

TEST_CASE("every drop names its rule and direction, is counted and rate-limited") {
    auto rs = compile(must_load(read("policy/examples/pet-ct-win7.toml")));
    std::vector<std::string> prefixes;
    for (const auto& t : rs.tables)
        for (const auto& c : t.chains) {
            if (!c.name.starts_with("drop_")) continue;
            REQUIRE(c.rules.size() == 2);
            const auto& s = c.rules[0].stmts;
            REQUIRE(s.size() == 3);
            CHECK(std::holds_alternative<ruleset::Counter>(s[0]));
            CHECK(std::holds_alternative<ruleset::Limit>(s[1]));
            const auto& log = std::get<ruleset::Log>(s[2]);
            CHECK(log.prefix == "modgate:" + c.name.substr(5, c.name.rfind('_') - 5) + ":" + c.name.substr(c.name.rfind('_') + 1));
            prefixes.push_back(std::string(to_string(t.family)) + log.prefix);
            CHECK(std::get<ruleset::Verdict>(c.rules[1].stmts[0]).kind == ruleset::Verdict::Kind::drop);
        }
    std::sort(prefixes.begin(), prefixes.end());
    CHECK(std::adjacent_find(prefixes.begin(), prefixes.end()) == prefixes.end());
    CHECK(prefixes.size() == 11);
}

TEST_CASE("the bridge forwards nothing but ARP and drops by default") {
    auto rs = compile(must_load(read("policy/examples/pet-ct-win7.toml")));
    const auto* fwd = rs.find(Family::bridge, names::table)->find_chain("forward");
    REQUIRE(fwd);
    REQUIRE(fwd->base);
    CHECK(fwd->base->policy_drop);
    for (const auto& r : fwd->rules) {
        bool accepts = std::any_of(r.stmts.begin(), r.stmts.end(), [](const ruleset::Stmt& s) {
            auto* v = std::get_if<ruleset::Verdict>(&s);
            return v && v->kind == ruleset::Verdict::Kind::accept;
        });
        if (accepts) CHECK(ruleset::render_rule(Family::bridge, r).find("arp htype 1 arp ptype ip") != std::string::npos);
    }
}

TEST_CASE("island mode diverts nothing and accepts nothing on the bridge") {
    auto text = read("policy/examples/pet-ct-win7.toml");
    text.replace(text.find("mode = \"enforce\""), 16, "mode = \"island\"");
    auto rendered = ruleset::render_file(compile(must_load(text)));
    CHECK(rendered.find("tproxy") == std::string::npos);
    CHECK(rendered.find("pkttype set host") == std::string::npos);
    CHECK(rendered.find("arp_pairs accept") == std::string::npos);
    CHECK(rendered.find("modgate:island:out") != std::string::npos);
}

TEST_CASE("the window set is dynamic with timeouts; other sets are compiler-owned") {
    auto rs = compile(must_load(read("policy/examples/pet-ct-win7.toml")));
    for (const auto& t : rs.tables)
        for (const auto& s : t.sets) {
            bool window = s.name.starts_with("window");
            CHECK(s.dynamic == window);
            CHECK(s.timeout == window);
        }
}

TEST_CASE("compiling is deterministic") {
    auto p = must_load(read("policy/examples/xray-room.toml"));
    CHECK(ruleset::render_file(compile(p)) == ruleset::render_file(compile(p)));
    CHECK(compile(p) == compile(p));
}

TEST_CASE("the rule count does not grow with modalities and allows") {
    auto small = load_string(testing::generate_policy(10, 100), "small.toml");
    auto large = load_string(testing::generate_policy(1000, 10000), "large.toml");
    INFO(small.report().substr(0, 2000));
    REQUIRE(small.policy);
    INFO(large.report().substr(0, 2000));
    REQUIRE(large.policy);
    auto rs_small = compile(*small.policy);
    auto rs_large = compile(*large.policy);
    CHECK(rule_count(rs_small) == rule_count(rs_large));
    CHECK(elements(rs_large, Family::bridge, "stations").size() == 1000);
    CHECK(elements(rs_large, Family::inet, "out_tcp").size() > elements(rs_small, Family::inet, "out_tcp").size() * 50);
}
