// The window state machine: refusals, open and capped re-open, manual close holding a slot shut,
// scheduled starts and expiry from tick(), and deadlines.
#include "gateway/windows/window.hpp"
#include "gateway/windows/window_set.hpp"
#include "test_support.hpp"

using namespace windows_test;
using namespace modgate::windows;

namespace {

const Who alice{1000, "alice"};
const Who bob{1001, "bob"};

Window make(std::vector<std::string_view> slots, std::string zone = "UTC", Seconds max = 4h, bool on_demand = true) {
    auto w = Window::make(maintenance("pet-ct-1", "vendor-remote", std::move(slots), std::move(zone), max, on_demand));
    if (!w) FAIL(w.error());
    return std::move(*w);
}

// The answer to an open request: its last transition (earlier ones report an unticked expiry).
Transition opened(Window& w, Time now, Seconds d, const Who& who = alice, std::string reason = "CHG-1234") {
    auto t = w.open(now, d, who, std::move(reason));
    if (!t) FAIL(t.error());
    if (t->empty()) FAIL("open returned no transition");
    return t->back();
}

// 2026-01-10 is a Saturday; slot "Sat 02:00-06:00" in UTC.
const Time sat_0200 = utc("2026-01-10T02:00:00Z");
const Time sat_0600 = utc("2026-01-10T06:00:00Z");
const Time next_sat_0200 = utc("2026-01-17T02:00:00Z");

}  // namespace

TEST_CASE("refused opens say why and change nothing", "[windows][window]") {
    auto w = make({"Sat 02:00-06:00"});
    const Time now = utc("2026-01-07T10:00:00Z");
    SECTION("over max_duration") {
        auto r = w.open(now, 5h, alice, "CHG-1");
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error(), Catch::Contains("5h is over max_duration 4h"));
        CHECK_THAT(r.error(), Catch::Contains("pet-ct-1/vendor-remote"));
    }
    SECTION("no reason, or only blanks") {
        CHECK_THAT(w.open(now, 1h, alice, "").error(), Catch::Contains("reason is required"));
        CHECK_THAT(w.open(now, 1h, alice, "  \t ").error(), Catch::Contains("reason is required"));
    }
    SECTION("a reason over several lines (it would forge state-file and log lines)") {
        CHECK_THAT(w.open(now, 1h, alice, "CHG-1\nopen modality=x").error(), Catch::Contains("single line"));
    }
    SECTION("a duration that is not positive") {
        CHECK_THAT(w.open(now, 0s, alice, "CHG-1").error(), Catch::Contains("positive"));
        CHECK_THAT(w.open(now, -1h, alice, "CHG-1").error(), Catch::Contains("positive"));
    }
    SECTION("on_demand = false, even with everything else right") {
        auto off = make({"Sat 02:00-06:00"}, "UTC", 4h, false);
        auto r = off.open(now, 1h, alice, "CHG-1");
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error(), Catch::Contains("on_demand = false"));
        CHECK_FALSE(off.is_open());
    }
    CHECK_FALSE(w.is_open());
    CHECK(w.state() == WindowState{});
}

TEST_CASE("a manual open, and re-opens that extend up to opened_at + max_duration", "[windows][window]") {
    auto w = make({"Sat 02:00-06:00"});
    const Time t0 = utc("2026-01-07T10:00:00Z");  // a Wednesday: no slot running
    const auto t = opened(w, t0, 2h, alice, "  CHG-1234 detector firmware ");
    CHECK(t.action == Action::open);
    CHECK(t.cause == Cause::manual);
    CHECK(t.modality == "pet-ct-1");
    CHECK(t.vendor == "vendor-remote");
    CHECK(t.at == t0);
    CHECK(t.opened_at == t0);
    CHECK(t.ends_at == t0 + 2h);
    CHECK(t.timeout() == 2h);
    CHECK(t.source == Source::manual);
    CHECK(t.who == alice);
    CHECK(t.reason == "CHG-1234 detector firmware");  // trimmed
    CHECK_FALSE(t.capped);
    REQUIRE(w.is_open());
    CHECK(w.state().open->ends_at == t0 + 2h);

    // One hour in, two more hours: ends at t0 + 3h.
    auto e1 = opened(w, t0 + 1h, 2h, bob, "CHG-1235");
    CHECK(e1.action == Action::extend);
    CHECK(e1.previous_end == t0 + 2h);
    CHECK(e1.ends_at == t0 + 3h);
    CHECK(e1.opened_at == t0);  // the stretch still began at t0
    CHECK(e1.who == bob);
    CHECK_FALSE(e1.capped);
    CHECK(w.state().open->who == bob);

    // Two hours in, three more: would be t0 + 5h, capped at t0 + 4h (not at now + 4h).
    auto e2 = opened(w, t0 + 2h, 3h);
    CHECK(e2.ends_at == t0 + 4h);
    CHECK(e2.capped);

    // At the cap, asking again changes nothing and says so.
    auto e3 = opened(w, t0 + 3h + 30min, 4h);
    CHECK(e3.action == Action::extend);
    CHECK(e3.previous_end == t0 + 4h);
    CHECK(e3.ends_at == t0 + 4h);
    CHECK(e3.capped);

    // A shorter request never shortens the window.
    auto e4 = opened(w, t0 + 3h, 10min);
    CHECK(e4.ends_at == t0 + 4h);
    CHECK_FALSE(e4.capped);

    // It expires at the cap; only an explicit new open starts a new stretch.
    CHECK(w.tick(t0 + 4h - 1s).empty());
    auto closes = w.tick(t0 + 4h);
    REQUIRE(closes.size() == 1);
    CHECK(closes[0].action == Action::close);
    CHECK(closes[0].cause == Cause::expired);
    CHECK(closes[0].at == t0 + 4h);
    CHECK_FALSE(closes[0].who);
    CHECK_FALSE(w.is_open());
    auto again = opened(w, t0 + 4h, 4h);
    CHECK(again.action == Action::open);
    CHECK(again.opened_at == t0 + 4h);
    CHECK(again.ends_at == t0 + 8h);
}

TEST_CASE("open and close on a window past its end report the expiry tick() has not reported yet",
          "[windows][window]") {
    auto w = make({"Sat 02:00-06:00"});
    const Time t0 = utc("2026-01-07T10:00:00Z");
    opened(w, t0, 1h);
    SECTION("open: the expiry, then a fresh open (not an extend of an element the kernel dropped)") {
        auto ts = w.open(t0 + 2h, 1h, bob, "again");
        REQUIRE(ts);
        REQUIRE(ts->size() == 2);
        CHECK((*ts)[0].action == Action::close);
        CHECK((*ts)[0].cause == Cause::expired);
        CHECK((*ts)[0].reason == "CHG-1234");
        CHECK((*ts)[1].action == Action::open);
        CHECK((*ts)[1].opened_at == t0 + 2h);
        CHECK((*ts)[1].ends_at == t0 + 3h);
    }
    SECTION("close: the expiry only; the person's close has nothing left to close") {
        auto ts = w.close(t0 + 2h, bob, "done");
        REQUIRE(ts.size() == 1);
        CHECK(ts[0].cause == Cause::expired);
        CHECK(ts[0].at == t0 + 2h);
        CHECK_FALSE(w.is_open());
    }
    SECTION("a refused open changes nothing, not even the expiry") {
        CHECK_FALSE(w.open(t0 + 2h, 5h, bob, "too long"));
        CHECK(w.is_open());
        CHECK(w.tick(t0 + 2h).size() == 1);
    }
}

TEST_CASE("scheduled starts open the window for the slot; expiry closes it", "[windows][window][tick]") {
    auto w = make({"Sat 02:00-06:00"});
    CHECK(w.tick(sat_0200 - 1s).empty());
    CHECK(w.next_deadline(sat_0200 - 1s) == sat_0200);

    auto ts = w.tick(sat_0200);
    REQUIRE(ts.size() == 1);
    CHECK(ts[0].action == Action::open);
    CHECK(ts[0].cause == Cause::schedule);
    CHECK(ts[0].source == Source::schedule);
    CHECK(ts[0].opened_at == sat_0200);
    CHECK(ts[0].ends_at == sat_0600);
    CHECK(ts[0].timeout() == 4h);
    CHECK_FALSE(ts[0].who);
    CHECK(ts[0].reason == "schedule Sat 02:00-06:00");
    CHECK_FALSE(ts[0].capped);

    CHECK(w.tick(sat_0200 + 1h).empty());  // seen: no second open
    CHECK(w.next_deadline(sat_0200 + 1h) == sat_0600);

    auto te = w.tick(sat_0600);
    REQUIRE(te.size() == 1);
    CHECK(te[0].action == Action::close);
    CHECK(te[0].cause == Cause::expired);
    CHECK(te[0].ends_at == sat_0600);
    CHECK(w.tick(sat_0600).empty());
    CHECK(w.next_deadline(sat_0600) == next_sat_0200);

    // The week after, the same again.
    REQUIRE(w.tick(next_sat_0200 + 5min).size() == 1);
    CHECK(w.state().open->opened_at == next_sat_0200);
}

TEST_CASE("a late first tick opens a slot that is already running, even one that began yesterday",
          "[windows][window][tick]") {
    SECTION("daemon started at 05:00 inside Sat 02:00-06:00") {
        auto w = make({"Sat 02:00-06:00"});
        CHECK(w.next_deadline(sat_0200 + 3h) == sat_0200 + 3h);  // due now
        auto ts = w.tick(sat_0200 + 3h);
        REQUIRE(ts.size() == 1);
        CHECK(ts[0].opened_at == sat_0200);  // the stretch is the slot's
        CHECK(ts[0].ends_at == sat_0600);
        CHECK(ts[0].timeout() == 1h);
    }
    SECTION("Mon-Fri 22:00-02:00 in Berlin, first tick on Saturday 01:00 local") {
        auto w = make({"Mon-Fri 22:00-02:00"}, "Europe/Berlin");
        auto ts = w.tick(utc("2026-01-10T00:00:00Z"));
        REQUIRE(ts.size() == 1);
        CHECK(ts[0].opened_at == utc("2026-01-09T21:00:00Z"));  // Friday 22:00 CET
        CHECK(ts[0].ends_at == utc("2026-01-10T01:00:00Z"));
    }
}

TEST_CASE("a manual close holds until the next scheduled start", "[windows][window][hold]") {
    auto w = make({"Sat 02:00-06:00"});
    REQUIRE(w.tick(sat_0200).size() == 1);
    const Time closed_at = sat_0200 + 1h;
    auto cs = w.close(closed_at, bob, " incident 77 ");
    REQUIRE(cs.size() == 1);
    const auto& c = cs[0];
    CHECK(c.action == Action::close);
    CHECK(c.cause == Cause::manual);
    CHECK(c.at == closed_at);
    CHECK(c.ends_at == closed_at);
    CHECK(c.opened_at == sat_0200);
    CHECK(c.who == bob);
    CHECK(c.reason == "incident 77");
    CHECK_FALSE(w.is_open());
    REQUIRE(w.state().hold);
    CHECK(w.state().hold->since == closed_at);
    CHECK(w.state().hold->until == next_sat_0200);
    CHECK(w.state().hold->who == bob);

    // The rest of the slot stays closed, and the daemon need not wake before next week.
    for (Time t : {closed_at, closed_at + 1s, sat_0600 - 1s, sat_0600}) CHECK(w.tick(t).empty());
    CHECK_FALSE(w.is_open());
    CHECK(w.next_deadline(closed_at) == next_sat_0200);

    SECTION("a manual open inside the held slot is allowed, and when it ends the slot stays shut") {
        auto o = opened(w, closed_at + 30min, 1h, alice, "vendor call-back");
        CHECK(o.action == Action::open);
        CHECK(o.ends_at == closed_at + 90min);
        CHECK(w.state().hold);  // still recorded: it must survive a restart too
        auto e = w.tick(closed_at + 90min);
        REQUIRE(e.size() == 1);
        CHECK(e[0].cause == Cause::expired);
        CHECK(w.tick(closed_at + 91min).empty());
        CHECK_FALSE(w.is_open());
    }
    SECTION("the next scheduled start opens it again and ends the hold") {
        auto ts = w.tick(next_sat_0200);
        REQUIRE(ts.size() == 1);
        CHECK(ts[0].action == Action::open);
        CHECK(ts[0].cause == Cause::schedule);
        CHECK(ts[0].opened_at == next_sat_0200);
        CHECK_FALSE(w.state().hold);
    }
}

TEST_CASE("closing a closed window inside a slot the tick has not seen yet still holds it", "[windows][window][hold]") {
    auto w = make({"Sat 02:00-06:00"});
    CHECK(w.close(sat_0200 + 30s, bob, "").empty());  // nothing was open: no transition...
    REQUIRE(w.state().hold);                          // ...but the slot is held
    CHECK(w.tick(sat_0200 + 1min).empty());
    CHECK_FALSE(w.is_open());
}

TEST_CASE("closing outside any slot records no hold", "[windows][window][hold]") {
    auto w = make({"Sat 02:00-06:00"});
    const Time wed = utc("2026-01-07T10:00:00Z");
    CHECK(w.close(wed, bob, "nothing open").empty());
    opened(w, wed, 1h);
    auto c = w.close(wed + 10min, bob, "");
    REQUIRE(c.size() == 1);
    CHECK(c[0].ends_at == wed + 10min);
    CHECK_FALSE(w.state().hold);
    // This week's slot still opens on time.
    REQUIRE(w.tick(sat_0200).size() == 1);
}

TEST_CASE("a scheduled start on a window opened by hand lengthens it and begins a new stretch",
          "[windows][window][tick]") {
    SECTION("manual 01:00-03:00, slot 02:00-06:00: extended to 06:00, later re-opens capped at 06:00") {
        auto w = make({"Sat 02:00-06:00"});
        opened(w, sat_0200 - 1h, 2h);
        auto ts = w.tick(sat_0200);
        REQUIRE(ts.size() == 1);
        CHECK(ts[0].action == Action::extend);
        CHECK(ts[0].cause == Cause::schedule);
        CHECK(ts[0].previous_end == sat_0200 + 1h);
        CHECK(ts[0].ends_at == sat_0600);
        CHECK(ts[0].opened_at == sat_0200);
        CHECK(ts[0].source == Source::schedule);
        CHECK_FALSE(ts[0].who);
        auto r = opened(w, sat_0200 + 1h, 4h);
        CHECK(r.ends_at == sat_0600);  // slot start + 4h
        CHECK(r.capped);
    }
    SECTION("a manual window that already outlasts the slot is left alone") {
        auto w = make({"Sat 02:00-03:00"});
        opened(w, sat_0200 - 30min, 4h);
        CHECK(w.tick(sat_0200).empty());
        CHECK(w.state().open->ends_at == sat_0200 + 3h + 30min);
        CHECK(w.state().open->source == Source::manual);
        CHECK(w.state().open->opened_at == sat_0200);
        CHECK(w.tick(sat_0200 + 1h).empty());  // the slot's end does not close it
        CHECK(w.is_open());
    }
}

TEST_CASE("back-to-back whole days: Saturday's window ends, Sunday's opens", "[windows][window][tick]") {
    auto w = make({"Sat,Sun 00:00-24:00"}, "UTC", 24h);
    auto sat = w.tick(utc("2026-01-10T00:00:00Z"));
    REQUIRE(sat.size() == 1);
    CHECK(sat[0].ends_at == utc("2026-01-11T00:00:00Z"));
    auto sun = w.tick(utc("2026-01-11T00:00:00Z"));
    REQUIRE(sun.size() == 2);
    CHECK(sun[0].action == Action::close);
    CHECK(sun[0].cause == Cause::expired);
    CHECK(sun[1].action == Action::open);
    CHECK(sun[1].opened_at == utc("2026-01-11T00:00:00Z"));
    CHECK(sun[1].ends_at == utc("2026-01-12T00:00:00Z"));
}

TEST_CASE("a scheduled window on the fall-back night is cut at max_duration", "[windows][window][dst]") {
    auto w = make({"Sun 02:00-06:00"}, "Europe/Berlin", 4h);
    auto ts = w.tick(utc("2026-10-25T00:00:00Z"));
    REQUIRE(ts.size() == 1);
    CHECK(ts[0].opened_at == utc("2026-10-25T00:00:00Z"));
    CHECK(ts[0].ends_at == utc("2026-10-25T04:00:00Z"));
    CHECK(ts[0].capped);
    REQUIRE(w.tick(utc("2026-10-25T04:00:00Z")).size() == 1);
    CHECK(w.tick(utc("2026-10-25T04:30:00Z")).empty());  // 05:30 CET, inside the wall-clock slot: stays shut
}

TEST_CASE("the set of a policy's windows: look-up, tick and deadline over all", "[windows][set]") {
    auto set = WindowSet::make({maintenance("pet-ct-1", "vendor-remote", {"Sat 02:00-06:00"}),
                                maintenance("xray-2", "vendor-b", {"Sat 03:00-04:00"}, "UTC", 2h)});
    REQUIRE(set);
    CHECK(set->find("pet-ct-1", "vendor-remote"));
    CHECK(set->find("xray-2", "vendor-b"));
    CHECK_FALSE(set->find("pet-ct-1", "vendor-b"));
    CHECK(set->next_deadline(sat_0200 - 1h) == sat_0200);
    auto ts = set->tick(sat_0200 + 1h);
    REQUIRE(ts.size() == 2);
    CHECK(ts[0].modality == "pet-ct-1");
    CHECK(ts[1].modality == "xray-2");
    CHECK(ts[1].ends_at == sat_0200 + 2h);
    CHECK(set->next_deadline(sat_0200 + 1h) == sat_0200 + 2h);

    auto bad = WindowSet::make({maintenance("a", "b", {}, "No/Such_Zone")});
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error(), Catch::Contains("a/b") && Catch::Contains("No/Such_Zone"));
}
