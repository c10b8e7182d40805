// The daemon's window manager driven through a fake kernel: an opened window's elements appear,
// come back after the tables are re-created, and a restart restores open windows, not ended ones.
#include "gateway/daemon/window_manager.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gateway/windows/state_file.hpp"
#include "policy/compile.hpp"
#include "tests/unit/windows/fake_kernel_sets.hpp"
#include "tests/unit/windows/kernel_policy.hpp"
#include "tests/unit/windows/test_support.hpp"

namespace {

using namespace modgate;
using namespace windows_test;

struct TempDir {
    std::string path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "modgate-wm-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

struct Lab {
    TempDir dir;
    policy::Policy p = kernel_policy();
    ruleset::Ruleset compiled = policy::compile(p);
    std::shared_ptr<const proxy::PolicyState> state = std::make_shared<const proxy::PolicyState>(p);
    asio::io_context io;
    // What the proxy process is told: every set of open windows, and every cut order.
    std::vector<std::vector<privsep::OpenWindow>> published;
    std::vector<std::string> cuts;
    daemon::WindowHooks hooks{[this](const std::vector<privsep::OpenWindow>& w) { published.push_back(w); },
                              [this](const std::string& m, const std::string& v) { cuts.push_back(m + "/" + v); }};
    std::shared_ptr<FakeKernelSets> kernel = std::make_shared<FakeKernelSets>();

    std::unique_ptr<daemon::WindowManager> start() {
        auto wm = std::make_unique<daemon::WindowManager>(io, dir.path, hooks, kernel);
        wm->set_policy(state, compiled);
        io.poll();
        return wm;
    }
    std::size_t held(const char* set) const { return kernel->live(set).size(); }
    std::size_t out() const { return held(policy::names::window_set); }
    std::size_t in() const { return held(policy::names::window_in_set); }
};

control::Caller root() {
    control::Caller c;
    c.uid = 0;
    c.user = "root";
    return c;
}

control::Reply open(daemon::WindowManager& wm, const char* vendor, const char* secs) {
    return wm.open({{"modality", "pet-ct-1"}, {"vendor", vendor}, {"reason", "CHG-7"}, {"for", secs}}, root());
}

const control::WindowStatus& status_of(const std::vector<control::WindowStatus>& l, const char* vendor) {
    for (const auto& w : l)
        if (w.vendor == vendor) return w;
    FAIL("no window for " << vendor);
    return l.front();
}

}  // namespace

TEST_CASE_METHOD(Lab, "a window opened through the control socket appears in the kernel with its timeout") {
    auto wm = start();
    CHECK(out() == 0);
    auto r = open(*wm, "acme-remote", "600");
    INFO(r.message);
    REQUIRE(r.code == 0);
    REQUIRE(out() == 2);
    CHECK(in() == 1);
    for (const auto& [k, h] : kernel->live(policy::names::window_set))
        CHECK((h.element.timeout_ms == 600000 || h.element.timeout_ms == 599000));
    // Re-opening for no longer than granted: nothing for the kernel to do.
    const int writes = kernel->writes;
    REQUIRE(open(*wm, "acme-remote", "60").code == 0);
    CHECK(kernel->writes == writes);
    // Closing deletes them; the other window was never there.
    REQUIRE(wm->close({{"modality", "pet-ct-1"}, {"vendor", "acme-remote"}, {"reason", "done"}}, root()).code == 0);
    CHECK(out() == 0);
    CHECK(in() == 0);
}

TEST_CASE_METHOD(Lab, "the proxy is told of every open window with its addresses, and to cut a closed one's sessions") {
    auto wm = start();
    REQUIRE(!published.empty());
    CHECK(published.back().empty());
    REQUIRE(open(*wm, "acme-remote", "600").code == 0);
    REQUIRE(published.back().size() == 1);
    const auto& w = published.back().front();
    CHECK(w.modality == "pet-ct-1");
    CHECK(w.vendor == "acme-remote");
    CHECK(!w.addresses.empty());
    auto left = std::chrono::milliseconds(w.ends_at_ms) - std::chrono::system_clock::now().time_since_epoch();
    CHECK(left > 590s);
    CHECK(left <= 600s);
    CHECK(cuts.empty());
    REQUIRE(wm->close({{"modality", "pet-ct-1"}, {"vendor", "acme-remote"}, {"reason", "done"}}, root()).code == 0);
    CHECK(published.back().empty());
    CHECK(cuts == std::vector<std::string>{"pet-ct-1/acme-remote"});
}

TEST_CASE_METHOD(Lab, "the tables re-created: the open windows' elements are put back") {
    auto wm = start();
    REQUIRE(open(*wm, "acme-remote", "600").code == 0);
    REQUIRE(open(*wm, "acme-lan", "300").code == 0);
    const auto before = kernel->read().value();
    REQUIRE(before.out.size() == 3);
    kernel->clear();
    wm->kernel_replaced();
    const auto after = kernel->read().value();
    CHECK(after.out.size() == 3);
    CHECK(after.in.size() == 1);
    for (const auto& [k, h] : before.out) {
        REQUIRE(after.out.contains(k));
        CHECK(std::chrono::abs(after.out.at(k).ends - h.ends) < 2s);
    }
}

TEST_CASE_METHOD(Lab, "a restart keeps an open window as the kernel holds it, with no write") {
    auto wm = start();
    REQUIRE(open(*wm, "acme-remote", "600").code == 0);
    wm.reset();
    const int writes = kernel->writes;
    wm = start();
    CHECK(kernel->writes == writes);
    CHECK(out() == 2);
    CHECK(status_of(wm->list(), "acme-remote").open);
}

TEST_CASE_METHOD(Lab, "a reboot restores an open window from the state file and not an ended one") {
    auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    auto ws = windows::WindowSet::make(p).value();
    REQUIRE(ws.find("pet-ct-1", "acme-remote")->open(now - 10min, 1h, {0, "root"}, "CHG-8").has_value());
    REQUIRE(ws.find("pet-ct-1", "acme-lan")->open(now - 3h, 1h, {0, "root"}, "CHG-9").has_value());
    std::ofstream(dir.path + "/windows.state") << windows::format_state(windows::snapshot(ws));
    auto wm = start();  // the fake kernel is empty, as after a reboot
    auto l = wm->list();
    CHECK(status_of(l, "acme-remote").open);
    CHECK_FALSE(status_of(l, "acme-lan").open);
    const auto held = kernel->read().value();
    REQUIRE(held.out.size() == 2);
    for (const auto& [k, h] : held.out) {
        CHECK(std::get<policy::Cidr>(k[1]) == *policy::Cidr::parse("198.51.100.0/28"));
        CHECK(h.element.timeout_ms <= 50 * 60 * 1000);
        CHECK(h.element.timeout_ms >= 49 * 60 * 1000);
    }
}

TEST_CASE_METHOD(Lab, "a vendor name resolving adds its address to an open window, and dropping it removes it") {
    auto wm = start();
    REQUIRE(open(*wm, "acme-remote", "600").code == 0);
    wm->set_resolved("acme-remote", {*policy::Ipv4::parse("203.0.113.9")});
    CHECK(out() == 4);
    CHECK(in() == 2);
    wm->set_resolved("acme-remote", {});
    CHECK(out() == 2);
    CHECK(in() == 1);
}
