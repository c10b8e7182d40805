// The daemon's control plane without root: start-up, reload, tamper handling, NFLOG to events
// and host set-up failures, driven through a fake kernel and a fake host network.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gateway/daemon/boot.hpp"
#include "gateway/daemon/core.hpp"
#include "gateway/events/bus.hpp"
#include "gateway/host/host.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"
#include "tests/unit/daemon/fake_kernel.hpp"
#include "tests/unit/daemon/kernel_contract.hpp"
#include "tests/unit/host/fake_host_net.hpp"
#include "tests/unit/windows/fake_kernel_sets.hpp"

using namespace modgate;
using daemon::testing::FakeKernel;
using host::testing::FakeHostNet;
using events::Key;
using events::Kind;

namespace {

const char* policy_text = R"(
[gateway]
modality_port = "gs0"
network_port = "gh0"
[gateway.management]
interface = "mg0"
address = "10.99.0.5/24"

[[modality]]
name = "us-1"
ip = "192.168.10.21/24"
mac = "00:1b:21:aa:bb:01"
router = "192.168.10.1"

[[peer]]
name = "pacs"
ip = "192.168.10.5"
dicom = { ae_title = "PACS", port = 11112 }

[[allow]]
modality = "us-1"
to = "pacs"
service = "dicom"
dimse = ["C-ECHO", "C-STORE"]
sop_classes = ["US"]
)";

// The fake host network, noting each change of a bridge port and whether the kernel held a
// ruleset at that moment.
struct WatchedNet : FakeHostNet {
    explicit WatchedNet(const FakeKernel& k) : FakeHostNet(FakeHostNet::gateway()), kernel(k) {}
    const FakeKernel& kernel;
    std::vector<std::string> ports;  // "gs0 down", "gs0 up with ruleset", "gs0 up WITHOUT ruleset"
    host::Status set_link(const host::LinkChange& c) override {
        if ((c.name == "gs0" || c.name == "gh0") && c.up)
            ports.push_back(c.name + (!*c.up ? " down" : kernel.held ? " up with ruleset" : " up WITHOUT ruleset"));
        return FakeHostNet::set_link(c);
    }
};

// A daemon on fakes, with its policy, state and control socket in a temporary directory; the
// events it emits are kept in order.
struct Harness {
    std::filesystem::path dir;
    FakeKernel kernel;
    WatchedNet net{kernel};
    std::shared_ptr<windows_test::FakeKernelSets> sets = std::make_shared<windows_test::FakeKernelSets>();
    metrics::Registry metrics;
    std::vector<events::Record> seen;
    std::unique_ptr<daemon::Daemon> d;

    Harness() {
        char tmpl[] = "/tmp/modgate-daemon-test.XXXXXX";
        dir = ::mkdtemp(tmpl);
        write_policy(policy_text);
        auto& bus = events::Bus::get();
        bus.reset();
        bus.observe([this](const events::Record& r) { seen.push_back(r); });
        bus.observe([this](const events::Record& r) { metrics.observe(r); });
    }
    ~Harness() {
        d.reset();
        events::Bus::get().reset();
        std::filesystem::remove_all(dir);
    }
    void write_policy(const std::string& text) { std::ofstream(dir / "policy.toml") << text; }
    daemon::Options options() const {
        daemon::Options o;
        o.policy_path = (dir / "policy.toml").string();
        o.control_socket = (dir / "control.sock").string();
        o.state_dir = (dir / "state").string();
        return o;
    }
    int start() {
        auto r = policy::load_file(options().policy_path);
        REQUIRE(r.policy);
        d = std::make_unique<daemon::Daemon>(options(), std::move(*r.policy), "h1",
                                             daemon::Deps{kernel, net, metrics, false, sets}, r.text);
        return d->start();
    }
    std::vector<const events::Record*> of(Kind k) const {
        std::vector<const events::Record*> out;
        for (const auto& r : seen)
            if (r.kind == k) out.push_back(&r);
        return out;
    }
    // Our routes and rules in the fake are exactly what the policy wants.
    bool host_state_as_desired() const {
        auto want = host::desired_host_state(*policy::load_file(options().policy_path).policy);
        std::vector<host::Route> routes;
        std::vector<host::Rule> rules;
        for (const auto& r : net.route_table)
            if (r.protocol == host::rt_protocol) routes.push_back(r);
        for (const auto& r : net.rule_list)
            if (r.protocol == host::rt_protocol) rules.push_back(r);
        auto sorted = [](auto v) {
            std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.str() < b.str(); });
            return v;
        };
        return sorted(routes) == sorted(want.routes) && sorted(rules) == sorted(want.rules);
    }
    bool ports_up() const { return net.links.at("gs0").link.up && net.links.at("gh0").link.up; }
    void poll() {
        for (int i = 0; i < 10; ++i) d->io().poll();
    }
};

}  // namespace

TEST_CASE("start-up: the ports come up only once the ruleset is in") {
    Harness h;
    h.net.links["gs0"].link.up = true;  // left up by someone: must go down before anything
    REQUIRE(h.start() == 0);
    CHECK(h.kernel.held);
    CHECK(h.ports_up());
    // The ports went down first and came up only with the ruleset in the kernel.
    CHECK(h.net.ports == std::vector<std::string>{"gs0 down", "gh0 down", "gs0 up with ruleset", "gh0 up with ruleset"});
    CHECK(h.host_state_as_desired());
    REQUIRE(h.of(Kind::ruleset_applied).size() == 1);
    CHECK(h.of(Kind::ports_up).size() == 1);
    CHECK(h.of(Kind::started).size() == 1);
}

TEST_CASE("start-up: a refused apply leaves the ports down and is fatal") {
    Harness h;
    h.kernel.refuse = daemon::ApplyError{"rule 3 of chain bridge modgate forward: Operation not supported", {}};
    CHECK(h.start() == 3);
    CHECK_FALSE(h.ports_up());
    for (const auto& p : h.net.ports) CHECK(p.find(" up") == std::string::npos);
    REQUIRE(h.of(Kind::fatal).size() == 1);
    CHECK(h.of(Kind::fatal)[0]->text(Key::stage) == "apply");
    CHECK(h.of(Kind::ports_down).size() == 1);
    CHECK(h.of(Kind::started).empty());
}

TEST_CASE("start-up: a host set-up failure half way is fatal, and the next start finishes the job") {
    Harness h;
    h.net.fail.allowed = 3;  // three changes, then every change fails
    CHECK(h.start() == 3);
    CHECK_FALSE(h.ports_up());
    CHECK(h.of(Kind::fatal)[0]->text(Key::stage) == "host_setup");
    CHECK_FALSE(h.kernel.held);
    h.d.reset();
    h.net.fail.allowed = -1;
    REQUIRE(h.start() == 0);
    CHECK(h.host_state_as_desired());
    CHECK(h.ports_up());
}

TEST_CASE("reload: a good policy goes in, a bad one is refused with its location and changes nothing") {
    Harness h;
    REQUIRE(h.start() == 0);
    auto before = *h.kernel.held;
    std::string more = policy_text;
    more.replace(more.find("\"C-ECHO\", \"C-STORE\""), 19, "\"C-ECHO\"");
    h.write_policy(more);
    auto ok = h.d->reload();
    CHECK(ok.code == 0);
    REQUIRE(h.of(Kind::reload_applied).size() == 1);
    CHECK(h.of(Kind::reload_applied)[0]->text(Key::previous) == "h1");
    auto good = *h.kernel.held;

    h.write_policy(std::string(policy_text) + "\n[[allow]]\nmodality = \"nobody\"\nto = \"pacs\"\nservice = \"dicom\"\ndimse = [\"C-ECHO\"]\n");
    auto applies = h.kernel.calls.size();
    auto bad = h.d->reload();
    CHECK(bad.code == 1);
    CHECK(h.kernel.calls.size() == applies);  // nothing went to the kernel
    CHECK(*h.kernel.held == good);
    auto rejected = h.of(Kind::reload_rejected);
    REQUIRE(rejected.size() >= 2);
    CHECK(rejected[0]->text(Key::file) == h.options().policy_path);
    auto modality_line = std::count(policy_text, policy_text + std::strlen(policy_text), '\n') + 3;
    CHECK(std::get<std::int64_t>(*rejected[0]->find(Key::line)) == modality_line);
    CHECK(std::get<std::int64_t>(*rejected[0]->find(Key::col)) == 12);
    CHECK(rejected.back()->text(Key::kept) == h.d->hash());
}

TEST_CASE("reload: a kernel refusal keeps the running policy and names the rule's policy line") {
    Harness h;
    REQUIRE(h.start() == 0);
    auto held = *h.kernel.held;
    h.kernel.refuse = daemon::ApplyError{"rule 2 of chain inet modgate from_bridge (\"allow 'us-1->pacs:dicom'\", "
                                         "policy line 27:1): Invalid argument",
                                         ruleset::Origin{"allow 'us-1->pacs:dicom'", 27, 1}};
    auto r = h.d->reload();
    CHECK(r.code == 3);
    CHECK(*h.kernel.held == held);
    auto failed = h.of(Kind::reload_failed);
    REQUIRE(failed.size() == 1);
    CHECK(std::get<std::int64_t>(*failed[0]->find(Key::line)) == 27);
    CHECK(failed[0]->text(Key::kept) == "h1");
}

TEST_CASE("tamper: removed tables are put back at once; a monitor failure is not a tamper") {
    Harness h;
    REQUIRE(h.start() == 0);
    auto held = *h.kernel.held;
    h.kernel.tamper("delete table inet modgate");
    h.poll();
    REQUIRE(h.of(Kind::ruleset_tampered).size() == 1);
    CHECK(h.of(Kind::ruleset_tampered)[0]->text(Key::change) == "delete table inet modgate");
    REQUIRE(h.kernel.held);
    CHECK(*h.kernel.held == held);
    CHECK(h.of(Kind::ruleset_reapplied).size() == 1);

    auto applies = h.kernel.calls.size();
    h.kernel.queue_monitor({{}, "recv: No buffer space available"});
    h.poll();
    CHECK(h.of(Kind::monitor_failed).size() == 1);
    CHECK(h.of(Kind::ruleset_tampered).size() == 1);
    CHECK(h.kernel.calls.size() == applies);
}

TEST_CASE("NFLOG records become typed drop events; a failed read is counted") {
    Harness h;
    REQUIRE(h.start() == 0);
    daemon::DropRecord r;
    r.prefix = policy::parse_drop_prefix("modgate:flow:out");
    r.in = "gs0";
    r.proto = "tcp";
    r.src = "192.168.10.21";
    r.dst = "192.168.10.9";
    r.sport = 40000;
    r.dport = 445;
    daemon::DropRecord foreign = r;
    foreign.prefix.reset();
    h.kernel.queue_nflog({r, foreign});
    h.kernel.queue_nflog({}, "the kernel dropped 12 NFLOG records (socket buffer full)", 12);
    h.poll();
    auto drops = h.of(Kind::drop);
    REQUIRE(drops.size() == 2);
    CHECK(drops[0]->text(Key::rule) == "flow");
    CHECK(drops[0]->text(Key::dir) == "out");
    CHECK(std::get<std::int64_t>(*drops[0]->find(Key::dport)) == 445);
    CHECK(drops[1]->text(Key::rule) == "unknown");
    REQUIRE(h.of(Kind::nflog_failed).size() == 1);
    CHECK(std::get<std::int64_t>(*h.of(Kind::nflog_failed)[0]->find(Key::records)) == 12);
    auto s = h.d->status();
    CHECK(s.drops_logged.at("flow:out") == 1);
    CHECK(s.nflog_lost == 12);
}

namespace {

struct FakeDriver : daemon::testing::KernelDriver {
    FakeKernel k;
    daemon::Kernel& kernel() override { return k; }
    void foreign_delete_inet_table() override { k.tamper("delete table inet modgate"); }
};

}  // namespace

TEST_CASE("the fake kernel keeps the kernel contract") {
    FakeDriver d;
    daemon::testing::kernel_contract(d, daemon::testing::contract_ruleset(MODGATE_SOURCE_DIR));
}

TEST_CASE("tamper with a maintenance window open: the ruleset and the window's elements are put back") {
    Harness h;
    h.write_policy(std::string(policy_text) + R"(
[[vendor]]
name = "acme"
hosts = ["198.51.100.7"]
ports = [443]

[[maintenance]]
modality = "us-1"
vendor = "acme"
max_duration = "4h"
)");
    REQUIRE(h.start() == 0);
    control::Caller root;
    root.uid = 0;
    root.user = "root";
    auto r = h.d->windows().open({{"modality", "us-1"}, {"vendor", "acme"}, {"reason", "CHG-1"}, {"for", "600"}}, root);
    INFO(r.message);
    REQUIRE(r.code == 0);
    auto open_elements = h.sets->live(policy::names::window_set);
    REQUIRE(open_elements.size() == 1);
    // `flush ruleset`: the tables go, and the window's elements with them.
    h.kernel.tamper("delete table inet modgate");
    h.sets->clear();
    h.poll();
    REQUIRE(h.of(Kind::ruleset_reapplied).size() == 1);
    REQUIRE(h.kernel.held);
    auto back = h.sets->live(policy::names::window_set);
    REQUIRE(back.size() == 1);
    CHECK(back.begin()->first == open_elements.begin()->first);
}

TEST_CASE("stop: the ports go down, the ruleset stays in force") {
    Harness h;
    REQUIRE(h.start() == 0);
    REQUIRE(h.ports_up());
    h.d->stop();
    CHECK_FALSE(h.ports_up());
    CHECK(h.kernel.held);
    REQUIRE(h.of(Kind::ports_down).size() == 1);
    CHECK(h.of(Kind::ports_down)[0]->text(Key::reason) == "stopped");
    CHECK(h.of(Kind::stopped).size() == 1);
}

TEST_CASE("boot state: the policy in force is saved at start and at each reload, never a refused one") {
    Harness h;
    auto saved = [&] {
        std::ifstream in(daemon::applied_policy_path(h.options().state_dir));
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    REQUIRE(h.start() == 0);
    CHECK(saved() == policy_text);
    std::string fewer = policy_text;
    fewer.replace(fewer.find("\"C-ECHO\", \"C-STORE\""), 19, "\"C-ECHO\"");
    h.write_policy(fewer);
    REQUIRE(h.d->reload().code == 0);
    CHECK(saved() == fewer);
    h.write_policy("[gateway]\nmodality_port = 7\n");
    REQUIRE(h.d->reload().code == 1);
    CHECK(saved() == fewer);
    CHECK(h.of(Kind::boot_state_write_failed).empty());
}

TEST_CASE("boot plan: default deny with nothing saved, else the saved policy in its persisted mode") {
    Harness h;
    const auto state = h.options().state_dir;
    std::filesystem::create_directories(state);
    auto empty = daemon::plan_boot(state);
    CHECK_FALSE(empty.persisted);
    CHECK(empty.ruleset == policy::default_deny());
    REQUIRE(empty.ruleset.tables.size() == 1);
    const auto& fwd = empty.ruleset.tables[0].chains.at(0);
    REQUIRE(fwd.base);
    CHECK(fwd.base->policy_drop);
    CHECK(fwd.rules.empty());

    std::ofstream(daemon::applied_policy_path(state)) << policy_text;
    auto p = *policy::load_string(policy_text, "x").policy;
    auto saved = daemon::plan_boot(state);
    CHECK(saved.persisted);
    CHECK(saved.mode == policy::Mode::enforce);
    CHECK(saved.hash == policy::policy_hash(policy_text));
    CHECK(saved.ruleset == policy::compile(p, policy::Mode::enforce));

    std::ofstream(daemon::island_state_path(state)) << "reason=worm\n";
    auto island = daemon::plan_boot(state);
    CHECK(island.mode == policy::Mode::island);
    CHECK(island.ruleset == policy::compile(p, policy::Mode::island));

    // A saved file this version no longer accepts is not guessed at: default deny.
    std::ofstream(daemon::applied_policy_path(state)) << "[gateway]\nbridge = 3\n";
    auto broken = daemon::plan_boot(state);
    CHECK_FALSE(broken.persisted);
    CHECK(broken.file == daemon::applied_policy_path(state));
    CHECK(broken.ruleset == policy::default_deny());
}
