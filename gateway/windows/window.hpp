// The state machine of one maintenance window (one modality, one vendor): manual open and close,
// scheduled starts, expiry. Pure: every call takes `now`; nothing here reads a clock.
#pragma once
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "gateway/windows/schedule.hpp"
#include "gateway/windows/types.hpp"
#include "policy/model.hpp"

namespace modgate::windows {

struct OpenState {
    // Start of the current stretch: when it was opened by hand, or the start of the slot that
    // opened it. max_duration counts from here for manual re-opens.
    Time opened_at{};
    Time ends_at{};
    Source source = Source::manual;  // who granted the current end
    std::optional<Who> who;          // none when the schedule granted it
    std::string reason;
    bool operator==(const OpenState&) const = default;
};

// A manual close during a running slot: the rest of that slot stays closed, even across a manual
// open and close in between; the next scheduled start opens the window again.
struct Hold {
    Time since{};               // the close
    std::optional<Time> until;  // the next scheduled start after `since`, when the schedule opens it again
    Who who;
    std::string reason;
    bool operator==(const Hold&) const = default;
};

struct WindowState {
    std::optional<OpenState> open;  // nullopt: closed
    std::optional<Hold> hold;       // may coexist with a later manual open
    // Scheduled starts at or before this instant have been acted on (opened, merged into an open
    // window, or held off by a manual close); tick() acts only on later ones. nullopt after a
    // fresh start, so a slot that began before the daemon did (even yesterday) is opened.
    std::optional<Time> schedule_seen;
    bool operator==(const WindowState&) const = default;
};

// Semantics, decided here for the whole daemon:
// - open(): refused when on_demand is false, without a reason, or for a duration that is not
//   positive or exceeds max_duration. On a closed window it opens [now, now + duration).
//   On an open window it extends, never shortens: the new end is
//       max(ends_at, min(now + duration, opened_at + max_duration)).
//   The cap counts from the start of the stretch, not from now: capping at now + max_duration
//   would let repeated re-opens (or a script) keep a vendor connected for ever, and max_duration
//   is documented as the longest a window may stay open. To get more, a person must close the
//   window and open it again, which is a separate, audited decision. `capped` tells the caller
//   the request was cut.
// - close(): never refused (closing fails safe). If a scheduled slot is running, the window stays
//   closed for the rest of that slot and opens again at the next scheduled start (a Hold).
// - tick(): first expiry (ends_at <= now closes), then scheduled starts not yet seen. A scheduled
//   start on a closed window opens it for the slot ([slot start, slot end), already cut at
//   max_duration by Schedule). On an open window it may only lengthen it (to the slot's end) and
//   begins a new stretch at the slot start: the slot is a policy-approved opening of its own, so
//   the cap for later re-opens becomes slot start + max_duration. A slot held off by a manual
//   close is never opened, not even after a manual open in between has expired.
// Call tick() at next_deadline(): a tick that comes late still does the right thing, but the
// kernel's element timeout, not the tick, is what closes a window on time.
class Window {
public:
    static std::expected<Window, std::string> make(const policy::Maintenance& m);

    // open() and close() first report an expiry tick() has not reported yet (the kernel has closed
    // the window already). Then open() adds its open or extend, always last; close() adds a manual
    // close only if the window was still open, and records a hold whenever a slot is running (so
    // a scheduled start tick() has not seen yet cannot open it either).
    std::expected<std::vector<Transition>, std::string> open(Time now, Seconds duration, const Who& who,
                                                             std::string reason);
    std::vector<Transition> close(Time now, const Who& who, std::string reason);
    std::vector<Transition> tick(Time now);
    // The next instant tick() has something to do: now if a slot is running unseen, else the
    // earliest of ends_at, the end of a hold, the next scheduled start. nullopt: nothing ever.
    std::optional<Time> next_deadline(Time now) const;

    const std::string& modality() const { return modality_; }
    const std::string& vendor() const { return vendor_; }
    bool on_demand() const { return on_demand_; }
    Seconds max_duration() const { return schedule_.max_duration(); }
    const Schedule& schedule() const { return schedule_; }
    const WindowState& state() const { return state_; }
    bool is_open() const { return state_.open.has_value(); }
    // Replaces the state wholesale: for restore.cpp, which applies the restore rules first.
    void adopt(WindowState s) { state_ = std::move(s); }

private:
    explicit Window(Schedule s) : schedule_(std::move(s)) {}
    Transition make_transition(Action a, Cause c, Time now) const;
    std::optional<Transition> expire(Time now);
    std::vector<Occurrence> unseen_running(Time now) const;
    std::optional<Transition> apply_schedule(Time now);

    std::string modality_;
    std::string vendor_;
    bool on_demand_ = true;
    Schedule schedule_;
    WindowState state_;
};

}  // namespace modgate::windows
