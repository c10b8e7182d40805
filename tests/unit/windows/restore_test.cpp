// Restore rules under the current policy: remaining time kept, ended windows not restored,
// windows the policy no longer grants dropped with a note, ends clamped to max_duration, holds
// surviving a restart; and a full save/parse/restore cycle.
#include "gateway/windows/restore.hpp"
#include "test_support.hpp"

using namespace windows_test;
using namespace modgate::windows;

namespace {

const Who alice{1000, "alice"};
const Who bob{1001, "bob"};

// 2026-01-10 is a Saturday.
const Time now = utc("2026-01-10T03:00:00Z");

WindowSet policy_set(Seconds max = 4h, bool on_demand = true) {
    auto s = WindowSet::make({maintenance("pet-ct-1", "vendor-remote", {"Sat 02:00-06:00"}, "UTC", max, on_demand),
                              maintenance("xray-2", "vendor-b", {"Sun 02:00-04:00"}, "UTC", 2h)});
    if (!s) FAIL(s.error());
    return std::move(*s);
}

Record open_record(Time opened, Time ends, Source source = Source::manual, std::string modality = "pet-ct-1",
                   std::string vendor = "vendor-remote") {
    Record r;
    r.modality = std::move(modality);
    r.vendor = std::move(vendor);
    std::optional<Who> who;
    if (source == Source::manual) who = alice;
    r.open = OpenState{opened, ends, source, who, source == Source::manual ? "CHG-1" : "schedule Sat 02:00-06:00"};
    return r;
}

}  // namespace

TEST_CASE("a window still inside its end time comes back with its remaining time", "[windows][restore]") {
    auto set = policy_set();
    const auto r = open_record(now - 30min, now + 1h);
    auto res = restore(set, {r}, now);
    REQUIRE(res.transitions.size() == 1);
    const auto& t = res.transitions[0];
    CHECK(t.action == Action::open);
    CHECK(t.cause == Cause::restored);
    CHECK(t.at == now);
    CHECK(t.opened_at == now - 30min);
    CHECK(t.ends_at == now + 1h);
    CHECK(t.timeout() == 1h);
    CHECK(t.who == alice);
    CHECK_FALSE(t.capped);
    REQUIRE(res.notes.size() == 1);
    CHECK(res.notes[0] == RestoreNote{"pet-ct-1", "vendor-remote", "open", Outcome::restored, ""});
    const auto* w = set.find("pet-ct-1", "vendor-remote");
    REQUIRE(w->state().open);
    CHECK(*w->state().open == *r.open);
    // The slot running now was not held off (a hold would have been saved with it), so the first
    // tick lengthens the window to the slot's end, as it would have without the restart.
    auto ticks = set.tick(now);
    REQUIRE(ticks.size() == 1);
    CHECK(ticks[0].action == Action::extend);
    CHECK(ticks[0].ends_at == utc("2026-01-10T06:00:00Z"));
}

TEST_CASE("a window whose end has passed is not restored", "[windows][restore]") {
    auto set = policy_set();
    auto res = restore(set, {open_record(now - 3h, now - 1s), open_record(now - 2h, now)}, now);
    CHECK(res.transitions.empty());
    REQUIRE(res.notes.size() == 2);
    CHECK(res.notes[0].outcome == Outcome::ended);
    CHECK_THAT(res.notes[0].detail, Catch::Contains("2026-01-10T02:59:59Z"));
    CHECK(res.notes[1].outcome == Outcome::ended);  // ends_at == now: over
    CHECK_FALSE(set.find("pet-ct-1", "vendor-remote")->is_open());
}

TEST_CASE("a window the policy no longer has is dropped with a note", "[windows][restore]") {
    auto set = policy_set();
    auto gone = open_record(now - 1h, now + 1h, Source::manual, "pet-ct-1", "vendor-gone");
    gone.hold = Hold{now - 2h, std::nullopt, bob, "x"};
    auto res = restore(set, {gone}, now);
    CHECK(res.transitions.empty());
    REQUIRE(res.notes.size() == 2);
    CHECK(res.notes[0].record == "open");
    CHECK(res.notes[0].outcome == Outcome::dropped);
    CHECK_THAT(res.notes[0].detail, Catch::Contains("no [[maintenance]] for pet-ct-1/vendor-gone"));
    CHECK(res.notes[1].record == "hold");
    CHECK(res.notes[1].outcome == Outcome::dropped);
    for (const auto& w : set.windows()) CHECK(w.state() == WindowState{});
}

TEST_CASE("an end beyond the current max_duration is clamped", "[windows][restore]") {
    auto set = policy_set(2h);  // it was 4h when these were opened
    SECTION("opened 30 min ago until now + 3h30: cut at opened_at + 2h") {
        auto res = restore(set, {open_record(now - 30min, now + 3h + 30min)}, now);
        REQUIRE(res.transitions.size() == 1);
        CHECK(res.transitions[0].ends_at == now + 1h + 30min);
        CHECK(res.transitions[0].capped);
        REQUIRE(res.notes.size() == 1);
        CHECK(res.notes[0].outcome == Outcome::clamped);
        CHECK_THAT(res.notes[0].detail, Catch::Contains("2026-01-10T04:30:00Z") && Catch::Contains("2h"));
        CHECK(set.find("pet-ct-1", "vendor-remote")->state().open->ends_at == now + 1h + 30min);
    }
    SECTION("an opened_at in the future (clock stepped back) still ends by now + max_duration") {
        auto res = restore(set, {open_record(now + 1h, now + 4h)}, now);
        REQUIRE(res.transitions.size() == 1);
        CHECK(res.transitions[0].ends_at == now + 2h);
    }
    SECTION("opened more than max_duration ago: nothing left, it has ended") {
        auto res = restore(set, {open_record(now - 3h, now + 1h)}, now);
        CHECK(res.transitions.empty());
        CHECK(res.notes[0].outcome == Outcome::ended);
        CHECK_THAT(res.notes[0].detail, Catch::Contains("max_duration 2h"));
    }
}

TEST_CASE("a window whose grant is gone from the policy is dropped", "[windows][restore]") {
    SECTION("opened by hand, but on_demand is now false") {
        auto set = policy_set(4h, false);
        auto res = restore(set, {open_record(now - 30min, now + 1h)}, now);
        CHECK(res.transitions.empty());
        CHECK(res.notes[0].outcome == Outcome::dropped);
        CHECK_THAT(res.notes[0].detail, Catch::Contains("on_demand"));
    }
    SECTION("opened by the schedule, and no slot runs now") {
        auto set = policy_set();
        // xray-2's slot is on Sundays; on Saturday 03:00 none runs.
        auto res = restore(set, {open_record(now - 1h, now + 1h, Source::schedule, "xray-2", "vendor-b")}, now);
        CHECK(res.transitions.empty());
        CHECK(res.notes[0].outcome == Outcome::dropped);
        CHECK_THAT(res.notes[0].detail, Catch::Contains("no slot"));
    }
    SECTION("opened by the schedule whose slot still runs: restored") {
        auto set = policy_set();
        auto res = restore(
            set, {open_record(utc("2026-01-10T02:00:00Z"), utc("2026-01-10T06:00:00Z"), Source::schedule)}, now);
        REQUIRE(res.transitions.size() == 1);
        CHECK(res.transitions[0].source == Source::schedule);
        CHECK_FALSE(res.transitions[0].who);
        CHECK(set.tick(now).empty());  // already as long as the slot: nothing to add
    }
}

TEST_CASE("a manual close survives a restart until the next scheduled start", "[windows][restore][hold]") {
    const Hold hold{utc("2026-01-10T02:30:00Z"), utc("2026-01-17T02:00:00Z"), bob, "incident 77"};
    Record r;
    r.modality = "pet-ct-1";
    r.vendor = "vendor-remote";
    r.hold = hold;
    SECTION("restored inside the held slot: the schedule does not reopen it") {
        auto set = policy_set();
        auto res = restore(set, {r}, now);
        CHECK(res.transitions.empty());
        CHECK(res.notes[0] == RestoreNote{"pet-ct-1", "vendor-remote", "hold", Outcome::restored, ""});
        CHECK(set.tick(now).empty());
        CHECK(set.tick(utc("2026-01-10T05:59:59Z")).empty());
        REQUIRE(set.tick(utc("2026-01-17T02:00:00Z")).size() == 1);
    }
    SECTION("without the hold, the same restart would have opened it: the control case") {
        auto set = policy_set();
        CHECK(set.tick(now).size() == 1);
    }
    SECTION("the next start has passed: the hold has ended and that slot opens") {
        auto set = policy_set();
        const Time later = utc("2026-01-17T03:00:00Z");
        auto res = restore(set, {r}, later);
        CHECK(res.notes[0].outcome == Outcome::ended);
        auto ts = set.tick(later);
        REQUIRE(ts.size() == 1);
        CHECK(ts[0].opened_at == utc("2026-01-17T02:00:00Z"));
    }
    SECTION("a schedule without slots has nothing to hold off") {
        auto s = WindowSet::make({maintenance("pet-ct-1", "vendor-remote", {})});
        REQUIRE(s);
        auto res = restore(*s, {r}, now);
        CHECK(res.notes[0].outcome == Outcome::ended);
        CHECK_FALSE(s->find("pet-ct-1", "vendor-remote")->state().hold);
    }
    SECTION("the hold's end follows the current schedule, not the saved one") {
        auto s = WindowSet::make({maintenance("pet-ct-1", "vendor-remote", {"Sat 02:00-06:00", "Sat 04:00-05:00"})});
        REQUIRE(s);
        restore(*s, {r}, now);
        CHECK(s->find("pet-ct-1", "vendor-remote")->state().hold->until == utc("2026-01-10T04:00:00Z"));
        CHECK(s->tick(utc("2026-01-10T03:59:59Z")).empty());
        auto ts = s->tick(utc("2026-01-10T04:00:00Z"));
        REQUIRE(ts.size() == 1);
        CHECK(ts[0].ends_at == utc("2026-01-10T05:00:00Z"));
    }
}

TEST_CASE("save, parse and restore: a restart in the middle of things", "[windows][restore]") {
    auto before = policy_set();
    auto* pet = before.find("pet-ct-1", "vendor-remote");
    auto* xray = before.find("xray-2", "vendor-b");
    REQUIRE(before.tick(utc("2026-01-10T02:00:00Z")).size() == 1);  // pet-ct-1's slot opens
    REQUIRE(pet->close(utc("2026-01-10T02:30:00Z"), bob, "incident 77").size() == 1);
    REQUIRE(pet->open(utc("2026-01-10T02:40:00Z"), 1h, alice, "vendor call-back"));
    REQUIRE(xray->open(utc("2026-01-10T02:50:00Z"), 2h, alice, "CHG-9 \"urgent\""));

    const auto text = format_state(snapshot(before));
    auto records = parse_state(text);
    REQUIRE(records);
    CHECK(*records == snapshot(before));

    auto after = policy_set();
    auto res = restore(after, *records, now);
    CHECK(res.transitions.size() == 2);
    CHECK(res.notes.size() == 3);  // two opens and a hold
    for (std::size_t i = 0; i < before.windows().size(); ++i)
        CHECK(after.windows()[i].state().open == before.windows()[i].state().open);
    CHECK(after.find("pet-ct-1", "vendor-remote")->state().hold == pet->state().hold);
    // Both sides behave the same from here: the call-back window ends at 03:40 and the held slot
    // stays shut.
    for (Time t : {now, utc("2026-01-10T03:40:00Z"), utc("2026-01-10T04:50:00Z"), utc("2026-01-10T05:00:00Z")})
        CHECK(after.tick(t) == before.tick(t));
    CHECK_FALSE(after.find("pet-ct-1", "vendor-remote")->is_open());
    CHECK_FALSE(after.find("xray-2", "vendor-b")->is_open());
}
