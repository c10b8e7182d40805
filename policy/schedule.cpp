// Parsing of weekly schedule slots: "DAYS HH:MM-HH:MM" with DAYS one of "Sat", "Mon-Fri",
// "Sat,Sun", "daily". A slot whose end is not after its start crosses midnight.
#include "policy/schedule.hpp"

#include <array>
#include <cctype>

#include <fmt/format.h>

namespace modgate::policy {
namespace {

constexpr std::array<std::string_view, 7> day_names = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::optional<int> parse_day(std::string_view s) {
    if (s.size() < 3) return std::nullopt;
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static constexpr std::array<std::string_view, 7> long_names = {"monday", "tuesday", "wednesday", "thursday",
                                                                  "friday", "saturday", "sunday"};
    for (int i = 0; i < 7; ++i)
        if (lower == day_names[i] || lower == long_names[i]) return i;
    return std::nullopt;
}

// "HH:MM" -> minutes; allow_24 permits "24:00" (an end of day).
std::optional<int> parse_time(std::string_view s, bool allow_24) {
    if (s.size() != 5 || s[2] != ':') return std::nullopt;
    for (int i : {0, 1, 3, 4})
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59) return std::nullopt;
    if (h == 24 && m == 0 && allow_24) return 1440;
    if (h > 23) return std::nullopt;
    return h * 60 + m;
}

std::optional<std::uint8_t> parse_days(std::string_view s, std::string& error) {
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "daily" || lower == "*") return std::uint8_t{0x7f};
    std::uint8_t mask = 0;
    while (!s.empty()) {
        auto comma = s.find(',');
        auto part = s.substr(0, comma);
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
        auto dash = part.find('-');
        auto first = parse_day(part.substr(0, dash));
        auto last = dash == std::string_view::npos ? first : parse_day(part.substr(dash + 1));
        if (!first || !last) {
            error = fmt::format("'{}' is not a day or day range (use Mon..Sun, e.g. \"Mon-Fri\", \"Sat,Sun\", \"daily\")",
                                part);
            return std::nullopt;
        }
        for (int d = *first;; d = (d + 1) % 7) {  // ranges may wrap: "Fri-Mon"
            mask = static_cast<std::uint8_t>(mask | (1u << d));
            if (d == *last) break;
        }
        if (comma != std::string_view::npos && s.empty()) {
            error = "a day list must not end with a comma";
            return std::nullopt;
        }
    }
    return mask;
}

}  // namespace

std::string WeeklySlot::str() const {
    std::string days_text;
    if (days == 0x7f) {
        days_text = "daily";
    } else {
        for (int d = 0; d < 7; ++d) {
            if (!(days & (1u << d))) continue;
            if (!days_text.empty()) days_text += ',';
            std::string n(day_names[d]);
            n[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(n[0])));
            days_text += n;
        }
    }
    return fmt::format("{} {:02}:{:02}-{:02}:{:02}", days_text, start / 60, start % 60, end / 60, end % 60);
}

std::optional<WeeklySlot> parse_slot(std::string_view text, std::string& error) {
    auto space = text.find(' ');
    if (space == std::string_view::npos) {
        error = "expected \"DAYS HH:MM-HH:MM\", e.g. \"Sat 02:00-06:00\"";
        return std::nullopt;
    }
    auto days = parse_days(text.substr(0, space), error);
    if (!days) return std::nullopt;
    auto times = text.substr(space + 1);
    while (!times.empty() && times.front() == ' ') times.remove_prefix(1);
    auto dash = times.find('-');
    if (dash == std::string_view::npos) {
        error = fmt::format("'{}' is not a time range HH:MM-HH:MM", times);
        return std::nullopt;
    }
    auto start = parse_time(times.substr(0, dash), false);
    auto end = parse_time(times.substr(dash + 1), true);
    if (!start || !end) {
        error = fmt::format("'{}' is not a time range HH:MM-HH:MM (24-hour clock, end may be 24:00)", times);
        return std::nullopt;
    }
    if (*start == *end) {
        error = "the slot starts and ends at the same time; for a whole day write 00:00-24:00";
        return std::nullopt;
    }
    WeeklySlot slot;
    slot.days = *days;
    slot.start = static_cast<std::uint16_t>(*start);
    slot.end = static_cast<std::uint16_t>(*end);
    return slot;
}

}  // namespace modgate::policy
