// Weekly slots in local time to UTC occurrences, through Debian's date/tz (libstdc++ 12 has no
// <chrono> zones). The conversion rules for gaps and overlaps are stated in schedule.hpp.
#include "gateway/windows/schedule.hpp"

#include <algorithm>
#include <exception>

#include <date/tz.h>
#include <fmt/format.h>

namespace modgate::windows {
namespace {

// A local wall-clock time as a UTC instant: first valid instant after a gap, first occurrence in an
// overlap.
Time to_utc(const date::time_zone& zone, date::local_seconds local) {
    const auto info = zone.get_info(local);
    if (info.result == date::local_info::nonexistent) return info.second.begin;
    // unique, or ambiguous: `first` is the offset in force before the transition.
    return Time{local.time_since_epoch() - info.first.offset};
}

// The slot starts on this weekday (bit 0 = Monday, as in WeeklySlot::days).
bool starts_on(const policy::WeeklySlot& slot, date::local_days day) {
    const unsigned iso = date::weekday{day}.iso_encoding();  // 1 = Monday ... 7 = Sunday
    return (slot.days >> (iso - 1)) & 1u;
}

std::string check_slot(const policy::WeeklySlot& s, std::size_t i) {
    if ((s.days & 0x7f) == 0) return fmt::format("slot {} has no days", i);
    if (s.start >= 1440 || s.end == 0 || s.end > 1440 || s.start == s.end)
        return fmt::format("slot {} has times outside 00:00-24:00 or starts when it ends", i);
    return {};
}

}  // namespace

std::expected<Schedule, std::string> Schedule::make(std::vector<policy::WeeklySlot> slots, std::string_view zone,
                                                    Seconds max_duration) {
    if (max_duration <= Seconds{0}) return std::unexpected("max_duration must be positive");
    for (std::size_t i = 0; i < slots.size(); ++i)
        if (auto e = check_slot(slots[i], i); !e.empty()) return std::unexpected(e);
    Schedule s;
    try {
        // Throws for an unknown name, or when /usr/share/zoneinfo cannot be read.
        s.zone_ = date::locate_zone(zone);
    } catch (const std::exception& e) {
        return std::unexpected(fmt::format("time zone '{}': {}", zone, e.what()));
    }
    s.zone_name_ = std::string(zone);
    s.slots_ = std::move(slots);
    s.max_ = max_duration;
    return s;
}

int Schedule::local_day(Time t) const {
    const auto local = zone_->to_local(t);
    return date::floor<date::days>(local).time_since_epoch().count();
}

std::vector<Occurrence> Schedule::occurrences(int first_day, int count) const {
    std::vector<Occurrence> out;
    for (int d = first_day; d < first_day + count; ++d) {
        const date::local_days day{date::days{d}};
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            const auto& slot = slots_[i];
            if (!starts_on(slot, day)) continue;
            // The end is a wall-clock time of the same or the next day (end <= start crosses
            // midnight; 24:00 is the next midnight), converted on its own: see schedule.hpp.
            const auto local_start = date::local_seconds{day} + std::chrono::minutes{slot.start};
            const auto local_end = date::local_seconds{day} + std::chrono::minutes{slot.start + slot.minutes()};
            Occurrence o;
            o.slot = i;
            o.start = to_utc(*zone_, local_start);
            o.end = to_utc(*zone_, local_end);
            if (o.end - o.start > max_) {
                o.end = o.start + max_;
                o.clamped = true;
            }
            if (o.end > o.start) out.push_back(o);  // a slot wholly inside a gap has no time that night
        }
    }
    std::sort(out.begin(), out.end(), [](const Occurrence& a, const Occurrence& b) {
        return a.start != b.start ? a.start < b.start : a.slot < b.slot;
    });
    return out;
}

std::vector<Occurrence> Schedule::active_all(Time t) const {
    if (slots_.empty()) return {};
    // A slot lasts at most 24 h of wall-clock time (plus a DST shift), so an occurrence running at
    // t started on t's local day or the day before; three days back and one ahead leave margin
    // for zones whose transitions move the calendar date.
    auto all = occurrences(local_day(t) - 3, 5);
    std::erase_if(all, [t](const Occurrence& o) { return !(o.start <= t && t < o.end); });
    return all;
}

std::optional<Occurrence> Schedule::active_at(Time t) const {
    const auto all = active_all(t);
    if (all.empty()) return std::nullopt;
    // Sorted by start, so the first with the latest end is also the earliest such start.
    return *std::max_element(all.begin(), all.end(),
                             [](const Occurrence& a, const Occurrence& b) { return a.end < b.end; });
}

std::optional<Occurrence> Schedule::next_start_after(Time t) const {
    if (slots_.empty()) return std::nullopt;
    // Weekly slots recur within 7 days; 15 covers one that a DST gap swallowed once.
    for (const auto& o : occurrences(local_day(t) - 1, 16))
        if (o.start > t) return o;
    return std::nullopt;
}

}  // namespace modgate::windows
