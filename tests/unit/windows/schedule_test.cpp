// Weekly slots to UTC occurrences in real zones: DST gaps and overlaps in Europe/Berlin and
// America/New_York, midnight, month and year ends, whole days, and the max_duration cut.
#include "gateway/windows/schedule.hpp"
#include "test_support.hpp"

using namespace windows_test;
using modgate::windows::Occurrence;
using modgate::windows::Schedule;

namespace {

Schedule make(std::vector<std::string_view> slots, std::string zone, Seconds max = 4h) {
    auto s = Schedule::make(maintenance("m", "v", std::move(slots), std::move(zone), max));
    if (!s) FAIL(s.error());
    return *s;
}

// The occurrence running at `at`, which the test requires to exist.
Occurrence active(const Schedule& s, Time at) {
    auto o = s.active_at(at);
    if (!o) FAIL("nothing active at " << modgate::windows::format_time(at));
    return *o;
}

Occurrence next(const Schedule& s, Time after) {
    auto o = s.next_start_after(after);
    if (!o) FAIL("no start after " << modgate::windows::format_time(after));
    return *o;
}

}  // namespace

TEST_CASE("a plain weekly slot in UTC: active inside [start, end), next start after", "[windows][schedule]") {
    const auto s = make({"Sat 02:00-06:00"}, "UTC");
    // 2026-01-10 is a Saturday.
    const auto o = active(s, utc("2026-01-10T02:00:00Z"));
    CHECK(o.start == utc("2026-01-10T02:00:00Z"));
    CHECK(o.end == utc("2026-01-10T06:00:00Z"));
    CHECK_FALSE(o.clamped);
    CHECK(active(s, utc("2026-01-10T05:59:59Z")).start == o.start);
    CHECK_FALSE(s.active_at(utc("2026-01-10T01:59:59Z")));
    CHECK_FALSE(s.active_at(utc("2026-01-10T06:00:00Z")));  // the end is exclusive
    CHECK(next(s, utc("2026-01-07T12:00:00Z")).start == utc("2026-01-10T02:00:00Z"));
    // Strictly after: at the start itself, the next one is a week later.
    CHECK(next(s, utc("2026-01-10T02:00:00Z")).start == utc("2026-01-17T02:00:00Z"));
}

TEST_CASE("a start inside the spring-forward gap begins at the first valid minute after it",
          "[windows][schedule][dst]") {
    // Berlin, Sunday 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    SECTION("02:30 start, end after the gap: 3h of wall clock become 3h, starting at 03:00 CEST") {
        const auto s = make({"Sun 02:30-06:00"}, "Europe/Berlin");
        const auto o = active(s, utc("2026-03-29T01:00:00Z"));
        CHECK(o.start == utc("2026-03-29T01:00:00Z"));  // 03:00 CEST
        CHECK(o.end == utc("2026-03-29T04:00:00Z"));    // 06:00 CEST
        CHECK_FALSE(s.active_at(utc("2026-03-29T00:59:59Z")));
        CHECK(next(s, utc("2026-03-28T12:00:00Z")).start == utc("2026-03-29T01:00:00Z"));
        // The Sundays around it keep their wall-clock start: 02:30 CET and 02:30 CEST.
        CHECK(next(s, utc("2026-03-21T12:00:00Z")).start == utc("2026-03-22T01:30:00Z"));
        CHECK(next(s, utc("2026-03-29T01:00:00Z")).start == utc("2026-04-05T00:30:00Z"));
    }
    SECTION("02:00-06:00 lasts 3h of real time that night") {
        const auto s = make({"Sun 02:00-06:00"}, "Europe/Berlin");
        const auto o = active(s, utc("2026-03-29T02:00:00Z"));
        CHECK(o.start == utc("2026-03-29T01:00:00Z"));
        CHECK(o.end == utc("2026-03-29T04:00:00Z"));
        CHECK(o.end - o.start == 3h);
    }
    SECTION("a slot wholly inside the gap has no time that night") {
        const auto s = make({"Sun 02:00-02:30"}, "Europe/Berlin");
        CHECK(s.active_all(utc("2026-03-29T01:00:00Z")).empty());
        CHECK(next(s, utc("2026-03-28T12:00:00Z")).start == utc("2026-04-05T00:00:00Z"));
    }
    SECTION("New York, Sunday 2026-03-08: 02:30 EST does not exist; the slot starts at 03:00 EDT") {
        const auto s = make({"Sun 02:30-04:00"}, "America/New_York");
        const auto o = active(s, utc("2026-03-08T07:30:00Z"));
        CHECK(o.start == utc("2026-03-08T07:00:00Z"));
        CHECK(o.end == utc("2026-03-08T08:00:00Z"));
    }
}

TEST_CASE("a start inside the fall-back overlap is its first occurrence", "[windows][schedule][dst]") {
    // Berlin, Sunday 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00 UTC.
    SECTION("02:30 is 02:30 CEST; a 3h30 slot lasts 4h30 of real time, cut at max_duration") {
        const auto s = make({"Sun 02:30-06:00"}, "Europe/Berlin", 4h);
        const auto o = active(s, utc("2026-10-25T00:30:00Z"));
        CHECK(o.start == utc("2026-10-25T00:30:00Z"));  // 02:30 CEST, the first 02:30
        CHECK(o.end == utc("2026-10-25T04:30:00Z"));    // start + 4h, not 06:00 CET (05:00 UTC)
        CHECK(o.clamped);
        CHECK_FALSE(s.active_at(utc("2026-10-25T00:29:59Z")));
        CHECK_FALSE(s.active_at(utc("2026-10-25T04:30:00Z")));
        // Queried during the second 02:45 (CET), it is the same occurrence.
        CHECK(active(s, utc("2026-10-25T01:45:00Z")).start == o.start);
    }
    SECTION("with room under max_duration the wall-clock end stands") {
        const auto s = make({"Sun 02:30-06:00"}, "Europe/Berlin", 6h);
        const auto o = active(s, utc("2026-10-25T03:00:00Z"));
        CHECK(o.start == utc("2026-10-25T00:30:00Z"));
        CHECK(o.end == utc("2026-10-25T05:00:00Z"));  // 06:00 CET
        CHECK_FALSE(o.clamped);
    }
    SECTION("02:00-06:00 would last 5h; max_duration 4h cuts it") {
        const auto s = make({"Sun 02:00-06:00"}, "Europe/Berlin", 4h);
        const auto o = active(s, utc("2026-10-25T01:00:00Z"));
        CHECK(o.start == utc("2026-10-25T00:00:00Z"));
        CHECK(o.end == utc("2026-10-25T04:00:00Z"));
        CHECK(o.clamped);
    }
    SECTION("an end inside the overlap is its first occurrence too: no repeated hour") {
        const auto s = make({"Sun 01:00-02:30"}, "Europe/Berlin");
        const auto o = active(s, utc("2026-10-25T00:00:00Z"));
        CHECK(o.start == utc("2026-10-24T23:00:00Z"));  // 01:00 CEST
        CHECK(o.end == utc("2026-10-25T00:30:00Z"));    // the first 02:30
        CHECK_FALSE(s.active_at(utc("2026-10-25T01:15:00Z")));
    }
    SECTION("New York, Sunday 2026-11-01: 01:30 EDT comes first") {
        const auto s = make({"Sun 01:30-03:00"}, "America/New_York");
        const auto o = active(s, utc("2026-11-01T06:00:00Z"));
        CHECK(o.start == utc("2026-11-01T05:30:00Z"));  // 01:30 EDT
        CHECK(o.end == utc("2026-11-01T08:00:00Z"));    // 03:00 EST: 2h30 of real time
        CHECK_FALSE(o.clamped);
    }
    SECTION("New York, a midnight-crossing slot over the change: 3h of wall clock, 4h real") {
        const auto s4 = make({"Sat 23:00-02:00"}, "America/New_York", 4h);
        const auto o = active(s4, utc("2026-11-01T05:00:00Z"));
        CHECK(o.start == utc("2026-11-01T03:00:00Z"));  // Sat 31 Oct 23:00 EDT
        CHECK(o.end == utc("2026-11-01T07:00:00Z"));    // Sun 02:00 EST
        CHECK_FALSE(o.clamped);
        const auto s3 = make({"Sat 23:00-02:00"}, "America/New_York", 3h);
        CHECK(active(s3, utc("2026-11-01T05:00:00Z")).end == utc("2026-11-01T06:00:00Z"));
    }
}

TEST_CASE("slots crossing midnight are found from the next day", "[windows][schedule]") {
    const auto s = make({"Mon-Fri 22:00-02:00"}, "Europe/Berlin");
    // Saturday 2026-01-10 01:00 CET: the Friday slot is still running.
    const auto o = active(s, utc("2026-01-10T00:00:00Z"));
    CHECK(o.start == utc("2026-01-09T21:00:00Z"));  // Fri 22:00 CET
    CHECK(o.end == utc("2026-01-10T01:00:00Z"));    // Sat 02:00 CET
    CHECK_FALSE(s.active_at(utc("2026-01-10T02:00:00Z")));
    // Saturday night is not a start day, so Sunday 01:00 is closed; Monday 22:00 opens next.
    CHECK_FALSE(s.active_at(utc("2026-01-11T00:00:00Z")));
    CHECK(next(s, utc("2026-01-10T02:00:00Z")).start == utc("2026-01-12T21:00:00Z"));
    // Tuesday 01:00 CET belongs to Monday's slot.
    CHECK(active(s, utc("2026-01-13T00:00:00Z")).start == utc("2026-01-12T21:00:00Z"));
}

TEST_CASE("month and year ends", "[windows][schedule]") {
    SECTION("Thursday 2026-12-31 23:00 to 2027-01-01 01:00 in Berlin") {
        const auto s = make({"Thu 23:00-01:00"}, "Europe/Berlin");
        const auto o = active(s, utc("2026-12-31T23:30:00Z"));  // 00:30 CET on New Year's Day
        CHECK(o.start == utc("2026-12-31T22:00:00Z"));
        CHECK(o.end == utc("2027-01-01T00:00:00Z"));
        CHECK(next(s, utc("2026-12-31T23:30:00Z")).start == utc("2027-01-07T22:00:00Z"));
    }
    SECTION("a daily slot over the year end in UTC") {
        const auto s = make({"daily 23:00-01:00"}, "UTC");
        const auto o = active(s, utc("2027-01-01T00:59:59Z"));
        CHECK(o.start == utc("2026-12-31T23:00:00Z"));
        CHECK(o.end == utc("2027-01-01T01:00:00Z"));
    }
    SECTION("Saturday 2026-01-31 into February") {
        const auto s = make({"Sat 22:00-02:00"}, "Europe/Berlin");
        const auto o = active(s, utc("2026-02-01T00:30:00Z"));
        CHECK(o.start == utc("2026-01-31T21:00:00Z"));
        CHECK(o.end == utc("2026-02-01T01:00:00Z"));
    }
    SECTION("leap day: the Tuesday 2028-02-29 slot in New York runs into March") {
        const auto s = make({"Tue 23:00-01:00"}, "America/New_York");
        const auto o = active(s, utc("2028-03-01T05:30:00Z"));  // 00:30 EST on 1 March
        CHECK(o.start == utc("2028-03-01T04:00:00Z"));          // Tue 29 Feb 23:00 EST
        CHECK(o.end == utc("2028-03-01T06:00:00Z"));
    }
}

TEST_CASE("whole-day slots, on ordinary and DST days", "[windows][schedule]") {
    const auto s = make({"Sat,Sun 00:00-24:00"}, "Europe/Berlin", 24h);
    SECTION("Saturday 2026-03-28 is 24h; Sunday 2026-03-29 (spring forward) is 23h") {
        const auto sat = active(s, utc("2026-03-28T12:00:00Z"));
        CHECK(sat.start == utc("2026-03-27T23:00:00Z"));
        CHECK(sat.end == utc("2026-03-28T23:00:00Z"));
        // Back to back: at the boundary it is Sunday's occurrence, which ends at midnight CEST.
        const auto sun = active(s, utc("2026-03-28T23:00:00Z"));
        CHECK(sun.start == utc("2026-03-28T23:00:00Z"));
        CHECK(sun.end == utc("2026-03-29T22:00:00Z"));
        CHECK(s.active_all(utc("2026-03-28T23:00:00Z")).size() == 1);
        CHECK_FALSE(s.active_at(utc("2026-03-29T22:00:00Z")));  // Monday
    }
    SECTION("Sunday 2026-10-25 (fall back) would be 25h: cut at max_duration 24h") {
        const auto sun = active(s, utc("2026-10-25T12:00:00Z"));
        CHECK(sun.start == utc("2026-10-24T22:00:00Z"));
        CHECK(sun.end == utc("2026-10-25T22:00:00Z"));
        CHECK(sun.clamped);
        CHECK_FALSE(s.active_at(utc("2026-10-25T22:30:00Z")));
    }
    SECTION("daily whole days in UTC are always active and never overlap") {
        const auto d = make({"daily 00:00-24:00"}, "UTC", 24h);
        const auto o = active(d, utc("2026-06-15T00:00:00Z"));
        CHECK(o.start == utc("2026-06-15T00:00:00Z"));
        CHECK(o.end == utc("2026-06-16T00:00:00Z"));
        CHECK(d.active_all(utc("2026-06-15T23:59:59Z")).size() == 1);
    }
}

TEST_CASE("overlapping slots: active_at is the one that ends last", "[windows][schedule]") {
    const auto s = make({"daily 22:00-02:00", "daily 01:00-03:00"}, "UTC");
    CHECK(s.active_all(utc("2026-01-10T01:30:00Z")).size() == 2);
    const auto o = active(s, utc("2026-01-10T01:30:00Z"));
    CHECK(o.slot == 1);
    CHECK(o.start == utc("2026-01-10T01:00:00Z"));
    CHECK(o.end == utc("2026-01-10T03:00:00Z"));
}

TEST_CASE("schedules that cannot be built", "[windows][schedule]") {
    auto bad_zone = Schedule::make(maintenance("m", "v", {"Sat 02:00-06:00"}, "Mars/Olympus_Mons"));
    REQUIRE_FALSE(bad_zone);
    CHECK_THAT(bad_zone.error(), Catch::Contains("Mars/Olympus_Mons"));
    modgate::policy::WeeklySlot no_days{0, 60, 120};
    CHECK_FALSE(Schedule::make({no_days}, "UTC", 4h));
    modgate::policy::WeeklySlot same{1, 60, 60};
    CHECK_FALSE(Schedule::make({same}, "UTC", 4h));
    CHECK_FALSE(Schedule::make({}, "UTC", 0s));
    // No slots at all is fine: an on-demand-only window.
    auto empty = Schedule::make({}, "UTC", 4h);
    REQUIRE(empty);
    CHECK_FALSE(empty->active_at(utc("2026-01-10T02:00:00Z")));
    CHECK_FALSE(empty->next_start_after(utc("2026-01-10T02:00:00Z")));
}
