// The restore rules of restore.hpp, applied record by record.
#include "gateway/windows/restore.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace modgate::windows {

const char* to_string(Outcome o) {
    switch (o) {
        case Outcome::restored: return "restored";
        case Outcome::clamped: return "clamped";
        case Outcome::ended: return "ended";
        case Outcome::dropped: return "dropped";
    }
    return "?";
}

namespace {

struct OpenVerdict {
    Outcome outcome = Outcome::restored;
    std::string detail;
    OpenState state;
};

OpenVerdict judge_open(const Window& w, OpenState o, Time now) {
    if (o.ends_at <= now) return {Outcome::ended, fmt::format("it ended at {}", format_time(o.ends_at)), {}};
    if (o.source == Source::manual && !w.on_demand())
        return {Outcome::dropped, "the window is no longer on_demand", {}};
    if (o.source == Source::schedule && !w.schedule().active_at(now))
        return {Outcome::dropped, "no slot of the current schedule is running", {}};
    const auto max = w.max_duration();
    const Time cap = std::min(o.opened_at + max, now + max);
    if (cap <= now)
        return {Outcome::ended,
                fmt::format("max_duration {} of the current policy has passed since it opened at {}",
                            format_duration(max), format_time(o.opened_at)),
                {}};
    if (o.ends_at <= cap) return {Outcome::restored, {}, std::move(o)};
    auto detail = fmt::format("end moved from {} to {} (max_duration {} of the current policy)", format_time(o.ends_at),
                              format_time(cap), format_duration(max));
    o.ends_at = cap;
    return {Outcome::clamped, std::move(detail), std::move(o)};
}

}  // namespace

RestoreResult restore(WindowSet& set, const std::vector<Record>& records, Time now) {
    RestoreResult out;
    const auto note = [&](const Record& r, const char* what, Outcome o, std::string detail) {
        out.notes.push_back(RestoreNote{r.modality, r.vendor, what, o, std::move(detail)});
    };
    for (const auto& r : records) {
        Window* w = set.find(r.modality, r.vendor);
        if (!w) {
            const auto why = fmt::format("the policy has no [[maintenance]] for {}/{}", r.modality, r.vendor);
            if (r.open) note(r, "open", Outcome::dropped, why);
            if (r.hold) note(r, "hold", Outcome::dropped, why);
            continue;
        }
        WindowState state;
        bool clamped = false;
        if (r.open) {
            auto v = judge_open(*w, *r.open, now);
            clamped = v.outcome == Outcome::clamped;
            if (v.outcome == Outcome::restored || v.outcome == Outcome::clamped) state.open = std::move(v.state);
            note(r, "open", v.outcome, std::move(v.detail));
        }
        if (r.hold) {
            Hold h = *r.hold;
            // The schedule may have changed: its next start after the close is when the hold ends now.
            const auto next = w->schedule().next_start_after(h.since);
            h.until = next ? std::optional<Time>(next->start) : std::nullopt;
            state.schedule_seen = h.since;  // what the close held off stays held off
            if (!h.until) {
                note(r, "hold", Outcome::ended, "the current schedule has no slots to hold off");
            } else if (*h.until <= now) {
                note(r, "hold", Outcome::ended,
                     fmt::format("the next scheduled start came at {}", format_time(*h.until)));
            } else {
                state.hold = std::move(h);
                note(r, "hold", Outcome::restored, {});
            }
        }
        w->adopt(state);
        if (state.open) {
            Transition t;
            t.modality = r.modality;
            t.vendor = r.vendor;
            t.action = Action::open;
            t.cause = Cause::restored;
            t.at = now;
            t.opened_at = state.open->opened_at;
            t.ends_at = state.open->ends_at;
            t.source = state.open->source;
            t.who = state.open->who;
            t.reason = state.open->reason;
            t.capped = clamped;
            out.transitions.push_back(std::move(t));
        }
    }
    return out;
}

}  // namespace modgate::windows
