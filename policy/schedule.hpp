// Weekly maintenance schedules: "Sat 02:00-06:00", "Mon-Fri 22:00-02:00", "daily 01:00-03:30".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modgate::policy {

// One recurring slot in local wall-clock time. end <= start means it crosses midnight;
// "00:00-24:00" is a whole day.
struct WeeklySlot {
    std::uint8_t days = 0;         // bit 0 = Monday ... bit 6 = Sunday: the days the slot starts on
    std::uint16_t start = 0;       // minutes after local midnight, 0..1439
    std::uint16_t end = 0;         // minutes after local midnight, 1..1440
    auto operator<=>(const WeeklySlot&) const = default;
    std::uint32_t minutes() const { return end > start ? end - start : 1440u - start + end; }
    std::string str() const;
};

// Parses one slot. On failure returns nullopt and sets error to a message naming the problem.
std::optional<WeeklySlot> parse_slot(std::string_view text, std::string& error);

}  // namespace modgate::policy
