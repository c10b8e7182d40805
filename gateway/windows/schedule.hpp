// Weekly maintenance slots in a local IANA time zone, turned into concrete UTC intervals:
// which occurrence is running at an instant, and when the next one starts.
#pragma once
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/windows/types.hpp"
#include "policy/model.hpp"

namespace date {
class time_zone;
}

namespace modgate::windows {

// One concrete run of a slot: [start, end) in UTC.
struct Occurrence {
    Time start{};
    Time end{};
    std::size_t slot = 0;  // index into the schedule's slots
    bool clamped = false;  // the wall-clock end lay beyond start + max_duration and was cut there
    bool operator==(const Occurrence&) const = default;
};

// How local wall-clock times become UTC instants (each slot start and end converted on its own):
// - a time inside a spring-forward gap does not exist; it maps to the first valid instant after
//   the gap (a 02:30 start in Berlin on the last Sunday of March begins at 03:00 CEST);
// - a time inside a fall-back overlap exists twice; it maps to the first occurrence (02:30 on the
//   last Sunday of October in Berlin is 02:30 CEST, 00:30 UTC). For a start that opens the window
//   as early as the wall clock says; for an end it closes the window the first time the clock
//   shows that time, so an end inside the overlap never adds the repeated hour.
// Durations are therefore wall-clock based: "Sun 02:00-06:00" lasts 3 h of real time on the
// spring-forward night and 5 h on the fall-back night. The longer case is cut at max_duration
// (an occurrence never outlasts it: the policy's bound wins over the wall clock). A slot that lies
// wholly inside a gap (e.g. 02:00-02:30 on the spring-forward night) has no time at all that
// night and produces no occurrence.
class Schedule {
public:
    // Fails when the time zone is unknown or the tz database cannot be read.
    static std::expected<Schedule, std::string> make(std::vector<policy::WeeklySlot> slots, std::string_view zone,
                                                     Seconds max_duration);
    static std::expected<Schedule, std::string> make(const policy::Maintenance& m) {
        return make(m.schedule, m.timezone, m.max_duration);
    }

    // Every occurrence with start <= t < end, ordered by start (slots may overlap).
    std::vector<Occurrence> active_all(Time t) const;
    // The running occurrence that ends last (ties: the one that started first); nullopt when none.
    std::optional<Occurrence> active_at(Time t) const;
    // The earliest occurrence whose start is strictly after t.
    std::optional<Occurrence> next_start_after(Time t) const;

    bool empty() const { return slots_.empty(); }
    const std::vector<policy::WeeklySlot>& slots() const { return slots_; }
    const std::string& zone_name() const { return zone_name_; }
    Seconds max_duration() const { return max_; }

private:
    Schedule() = default;
    // Occurrences of every slot starting on local days [first_day, first_day + count), in the
    // zone's calendar (days since 1970-01-01), empty ones left out.
    std::vector<Occurrence> occurrences(int first_day, int count) const;
    int local_day(Time t) const;

    const date::time_zone* zone_ = nullptr;  // owned by the tz database, which lives as long as the program
    std::string zone_name_;
    std::vector<policy::WeeklySlot> slots_;
    Seconds max_{0};
};

}  // namespace modgate::windows
