// Counting events as they are emitted.
#include "gateway/metrics/registry.hpp"

#include <algorithm>

namespace modgate::metrics {

using events::Key;
using events::Kind;

std::string_view to_string(FlowOutcome o) {
    constexpr std::string_view n[] = {"opened", "closed", "upstream_failed"};
    return n[static_cast<std::size_t>(o)];
}

FlowCounters Snapshot::flow_totals() const {
    FlowCounters t;
    for (const auto& [k, f] : flows) {
        for (std::size_t i = 0; i < flow_outcomes; ++i) t.outcomes[i] += f.outcomes[i];
        t.bytes_up += f.bytes_up;
        t.bytes_down += f.bytes_down;
    }
    return t;
}

std::uint64_t Snapshot::refused_total() const {
    std::uint64_t n = 0;
    for (const auto& [k, v] : refused) n += v;
    return n;
}

namespace {

std::uint64_t integer(const events::Record& r, Key k) {
    const auto* v = r.find(k);
    const auto* i = v ? std::get_if<std::int64_t>(v) : nullptr;
    return i && *i > 0 ? static_cast<std::uint64_t>(*i) : 0;
}

}  // namespace

void Registry::observe_flow(const events::Record& r, FlowOutcome o) {
    auto& f = s_.flows[{r.text(Key::allow), r.text(Key::service)}];
    ++f.outcomes[static_cast<std::size_t>(o)];
    if (o == FlowOutcome::closed) {
        f.bytes_up += integer(r, Key::bytes_up);
        f.bytes_down += integer(r, Key::bytes_down);
    }
}

void Registry::observe_drop(const events::Record& r) {
    auto reason = policy::drop_reason_from_string(r.text(Key::rule));
    auto dir = policy::direction_from_string(r.text(Key::dir));
    if (reason && dir) ++s_.drops_logged[{*reason, *dir}];
    else ++s_.drops_logged_unknown;
}

void Registry::observe_association(const events::Record& r) {
    ++s_.associations[r.text(Key::end)];
    const auto* v = r.find(Key::dimse_counts);
    const auto* counts = v ? std::get_if<events::Counts>(v) : nullptr;
    if (!counts) return;
    constexpr std::string_view suffix = "_refused";
    for (const auto& [name, n] : *counts) {
        if (name.ends_with(suffix)) s_.dimse[name.substr(0, name.size() - suffix.size())].refused += n;
        else s_.dimse[name].forwarded += n;
    }
}

void Registry::observe(const events::Record& r) {
    std::lock_guard lock(mu_);
    ++s_.events[static_cast<std::size_t>(r.kind)];
    switch (r.kind) {
        case Kind::flow_opened: return observe_flow(r, FlowOutcome::opened);
        case Kind::flow_closed: return observe_flow(r, FlowOutcome::closed);
        case Kind::upstream_failed: return observe_flow(r, FlowOutcome::upstream_failed);
        case Kind::flow_refused: ++s_.refused[r.text(Key::proto)]; return;
        case Kind::drop: return observe_drop(r);
        case Kind::association: return observe_association(r);
        case Kind::window_open: ++s_.windows_opened; return;
        case Kind::window_extend: ++s_.windows_extended; return;
        case Kind::window_close: ++s_.windows_closed; return;
        case Kind::nflog_failed: s_.nflog_lost += integer(r, Key::records); return;
        default: return;
    }
}

void Registry::note_loop_lag(std::uint64_t ms) {
    std::lock_guard lock(mu_);
    s_.loop_max_lag_ms = std::max(s_.loop_max_lag_ms, ms);
}

Snapshot Registry::snapshot() const {
    std::lock_guard lock(mu_);
    return s_;
}

void Registry::reset() {
    std::lock_guard lock(mu_);
    s_ = {};
}

void add(Snapshot& into, const Snapshot& from) {
    for (std::size_t i = 0; i < into.events.size(); ++i) into.events[i] += from.events[i];
    for (const auto& [k, f] : from.flows) {
        auto& t = into.flows[k];
        for (std::size_t i = 0; i < t.outcomes.size(); ++i) t.outcomes[i] += f.outcomes[i];
        t.bytes_up += f.bytes_up;
        t.bytes_down += f.bytes_down;
    }
    for (const auto& [k, v] : from.refused) into.refused[k] += v;
    for (const auto& [k, v] : from.drops_logged) into.drops_logged[k] += v;
    into.drops_logged_unknown += from.drops_logged_unknown;
    for (const auto& [k, d] : from.dimse) {
        into.dimse[k].forwarded += d.forwarded;
        into.dimse[k].refused += d.refused;
    }
    for (const auto& [k, v] : from.associations) into.associations[k] += v;
    into.windows_opened += from.windows_opened;
    into.windows_extended += from.windows_extended;
    into.windows_closed += from.windows_closed;
    into.nflog_lost += from.nflog_lost;
    into.loop_max_lag_ms = std::max(into.loop_max_lag_ms, from.loop_max_lag_ms);
}

}  // namespace modgate::metrics
