// Restore rules: which saved windows come back after a restart, reboot or reload, and how, under
// the policy in force now.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/windows/state_file.hpp"
#include "gateway/windows/window_set.hpp"

namespace modgate::windows {

enum class Outcome : std::uint8_t {
    restored,  // as saved, with its remaining time
    clamped,   // restored, its end brought in to the current policy's max_duration
    ended,     // not restored: its time is over
    dropped,   // not restored: the current policy no longer grants it
};
const char* to_string(Outcome);

struct RestoreNote {
    std::string modality;
    std::string vendor;
    std::string record;  // "open" or "hold"
    Outcome outcome = Outcome::restored;
    std::string detail;  // a sentence for the operator; empty for a plain restore
    bool operator==(const RestoreNote&) const = default;
};

struct RestoreResult {
    // One Action::open, Cause::restored per restored open window: the daemon makes sure the set
    // element exists with timeout ends_at - now (after a reboot it does not; after a restart it may).
    std::vector<Transition> transitions;
    std::vector<RestoreNote> notes;  // one per record part (open, hold), for the audit trail
};

// Applies `records` to a freshly made set (windows they do not name stay as they are). Rules:
// - a window the policy no longer has ([[maintenance]] for the modality/vendor pair) is dropped;
// - an open window whose ends_at is not after now has ended and is not restored;
// - one opened by hand is dropped when the window is no longer on_demand, and one the schedule
//   opened is dropped when no slot of the current schedule is running now: in both cases the
//   policy that granted it is gone, and a window fails closed;
// - otherwise it is restored with its saved end, brought in to
//       min(opened_at + max_duration, now + max_duration)
//   of the current policy. The first term is the stretch rule of window.hpp (a lowered
//   max_duration applies to a window already open); the second bounds the remaining time even if
//   the saved opened_at lies in the future (a clock stepped back). If that leaves no time, it
//   has ended;
// - a hold is restored until the current schedule's next start after its `since`, so a slot
//   closed by hand stays closed across a restart; if that start has passed, or the schedule has
//   no slots any more, the hold has ended.
RestoreResult restore(WindowSet& set, const std::vector<Record>& records, Time now);

}  // namespace modgate::windows
