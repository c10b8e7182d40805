// One window's state machine; the rules it follows are stated in window.hpp.
#include "gateway/windows/window.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace modgate::windows {
namespace {

std::string trim(std::string s) {
    const auto not_space = [](unsigned char c) { return c != ' ' && c != '\t'; };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

bool has_control(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace

std::expected<Window, std::string> Window::make(const policy::Maintenance& m) {
    auto s = Schedule::make(m);
    if (!s) return std::unexpected(fmt::format("maintenance '{}/{}': {}", m.modality, m.vendor, s.error()));
    Window w(std::move(*s));
    w.modality_ = m.modality;
    w.vendor_ = m.vendor;
    w.on_demand_ = m.on_demand;
    return w;
}

Transition Window::make_transition(Action a, Cause c, Time now) const {
    Transition t;
    t.modality = modality_;
    t.vendor = vendor_;
    t.action = a;
    t.cause = c;
    t.at = now;
    if (state_.open) {
        t.opened_at = state_.open->opened_at;
        t.ends_at = state_.open->ends_at;
        t.source = state_.open->source;
        t.who = state_.open->who;
        t.reason = state_.open->reason;
    }
    return t;
}

std::optional<Transition> Window::expire(Time now) {
    if (!state_.open || state_.open->ends_at > now) return std::nullopt;
    auto t = make_transition(Action::close, Cause::expired, now);
    t.ends_at = now;
    t.who.reset();
    state_.open.reset();
    return t;
}

std::expected<std::vector<Transition>, std::string> Window::open(Time now, Seconds duration, const Who& who,
                                                                 std::string reason) {
    const auto name = fmt::format("window {}/{}", modality_, vendor_);
    if (!on_demand_)
        return std::unexpected(
            fmt::format("{} cannot be opened by hand (on_demand = false): it opens only on its schedule", name));
    reason = trim(std::move(reason));
    if (reason.empty())
        return std::unexpected(
            fmt::format("{}: a reason is required, e.g. a change ticket (--reason \"CHG-1234\")", name));
    if (has_control(reason)) return std::unexpected(fmt::format("{}: the reason must be a single line of text", name));
    if (duration <= Seconds{0}) return std::unexpected(fmt::format("{}: the duration must be positive", name));
    if (duration > max_duration())
        return std::unexpected(fmt::format("{}: {} is over max_duration {}", name, format_duration(duration),
                                           format_duration(max_duration())));

    std::vector<Transition> out;
    // A window past its end is closed in the kernel already: report that, then open afresh.
    if (auto e = expire(now)) out.push_back(std::move(*e));
    const Time wanted = now + duration;
    if (!state_.open) {
        // A hold stays: when this manual window ends, the held slot must not open by itself.
        state_.open = OpenState{now, wanted, Source::manual, who, std::move(reason)};
        out.push_back(make_transition(Action::open, Cause::manual, now));
        return out;
    }
    auto& o = *state_.open;
    const Time cap = o.opened_at + max_duration();
    const Time previous = o.ends_at;
    const Time granted = std::max(previous, std::min(wanted, cap));
    if (granted > previous) {
        o.ends_at = granted;
        o.source = Source::manual;
        o.who = who;
        o.reason = reason;
    }
    auto t = make_transition(Action::extend, Cause::manual, now);
    t.previous_end = previous;
    t.capped = wanted > cap;
    t.who = who;  // the audit event names the person who asked, even when nothing changed
    t.reason = std::move(reason);
    out.push_back(std::move(t));
    return out;
}

std::vector<Transition> Window::close(Time now, const Who& who, std::string reason) {
    reason = trim(std::move(reason));
    std::vector<Transition> out;
    if (auto e = expire(now)) out.push_back(std::move(*e));
    if (state_.hold && state_.hold->until && *state_.hold->until <= now) state_.hold.reset();
    if (state_.open) {
        auto t = make_transition(Action::close, Cause::manual, now);
        t.ends_at = now;
        t.who = who;
        t.reason = reason;
        out.push_back(std::move(t));
        state_.open.reset();
    }
    // Anything running now is held off; next_start_after(now) is the next one that will open.
    state_.schedule_seen = std::max(state_.schedule_seen.value_or(now), now);
    if (!state_.hold && !schedule_.active_all(now).empty()) {  // an existing hold keeps its first closer
        Hold h;
        h.since = now;
        if (auto next = schedule_.next_start_after(now)) h.until = next->start;
        h.who = who;
        h.reason = std::move(reason);
        state_.hold = std::move(h);
    }
    return out;
}

std::vector<Occurrence> Window::unseen_running(Time now) const {
    auto running = schedule_.active_all(now);
    if (state_.schedule_seen)
        std::erase_if(running, [&](const Occurrence& o) { return o.start <= *state_.schedule_seen; });
    return running;
}

std::optional<Transition> Window::apply_schedule(Time now) {
    const auto unseen = unseen_running(now);
    if (unseen.empty()) return std::nullopt;
    state_.schedule_seen =
        std::max_element(unseen.begin(), unseen.end(), [](auto& a, auto& b) { return a.start < b.start; })->start;
    // Overlapping slots: the one that ends last decides (ties: the earlier start).
    const Occurrence occ = *std::max_element(unseen.begin(), unseen.end(),
                                             [](const Occurrence& a, const Occurrence& b) { return a.end < b.end; });
    const auto reason = "schedule " + schedule_.slots()[occ.slot].str();
    state_.hold.reset();
    if (!state_.open) {
        state_.open = OpenState{occ.start, occ.end, Source::schedule, std::nullopt, reason};
        auto t = make_transition(Action::open, Cause::schedule, now);
        t.capped = occ.clamped;
        return t;
    }
    auto& o = *state_.open;
    // A new stretch starts at the slot (never earlier than the current one: a window opened by
    // hand just after the slot began keeps its own start).
    o.opened_at = std::max(o.opened_at, occ.start);
    if (occ.end <= o.ends_at) return std::nullopt;  // already open at least as long: nothing to add
    const Time previous = o.ends_at;
    o.ends_at = occ.end;
    o.source = Source::schedule;
    o.who.reset();
    o.reason = reason;
    auto t = make_transition(Action::extend, Cause::schedule, now);
    t.previous_end = previous;
    t.capped = occ.clamped;
    return t;
}

std::vector<Transition> Window::tick(Time now) {
    std::vector<Transition> out;
    if (auto e = expire(now)) out.push_back(std::move(*e));
    if (state_.hold && state_.hold->until && *state_.hold->until <= now) state_.hold.reset();
    if (auto t = apply_schedule(now)) out.push_back(std::move(*t));
    return out;
}

std::optional<Time> Window::next_deadline(Time now) const {
    if (!unseen_running(now).empty()) return now;
    std::optional<Time> best;
    const auto consider = [&](Time t) { best = best ? std::min(*best, t) : t; };
    if (state_.open) consider(state_.open->ends_at);
    if (state_.hold && state_.hold->until) consider(*state_.hold->until);
    if (auto next = schedule_.next_start_after(now)) consider(next->start);
    return best;
}

}  // namespace modgate::windows
