// Names of the window enums as they appear in events and the state file, and the one time format.
#include "gateway/windows/types.hpp"

#include <date/date.h>
#include <fmt/format.h>

namespace modgate::windows {

const char* to_string(Source s) { return s == Source::schedule ? "schedule" : "manual"; }

const char* to_string(Action a) {
    switch (a) {
        case Action::open: return "open";
        case Action::extend: return "extend";
        case Action::close: return "close";
    }
    return "?";
}

const char* to_string(Cause c) {
    switch (c) {
        case Cause::schedule: return "schedule";
        case Cause::manual: return "manual";
        case Cause::expired: return "expired";
        case Cause::restored: return "restored";
    }
    return "?";
}

std::optional<Source> source_from_string(std::string_view s) {
    if (s == "schedule") return Source::schedule;
    if (s == "manual") return Source::manual;
    return std::nullopt;
}

std::string format_duration(Seconds d) {
    const auto total = d.count();
    const auto h = total / 3600, m = total % 3600 / 60, s = total % 60;
    std::string out = total < 0 ? "-" : "";
    if (h) out += fmt::format("{}h", h < 0 ? -h : h);
    if (m) out += fmt::format("{}m", m < 0 ? -m : m);
    if (s || (!h && !m)) out += fmt::format("{}s", s < 0 ? -s : s);
    return out;
}

std::string format_time(Time t) {
    const auto day = date::floor<date::days>(t);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss hms{t - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                       hms.minutes().count(), hms.seconds().count());
}

namespace {

// Digits at [pos, pos + n) as a number, or -1 when any is not a digit.
int digits(std::string_view s, std::size_t pos, std::size_t n) {
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

}  // namespace

std::optional<Time> parse_time(std::string_view s) {
    // Strict on purpose: the state file is written by us, so anything else is damage.
    if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return std::nullopt;
    const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
    const int h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
    const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                   date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    return Time{date::sys_days{ymd}.time_since_epoch()} + std::chrono::hours{h} + std::chrono::minutes{mi} +
           Seconds{sec};
}

}  // namespace modgate::windows
