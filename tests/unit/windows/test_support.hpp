// Helpers for the window tests: UTC instants from text, slots and [[maintenance]] entries, and
// Catch printing of instants in the state file's form.
#pragma once
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER  // show the instant inside an optional, not {?}
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "gateway/windows/types.hpp"
#include "policy/model.hpp"
#include "policy/schedule.hpp"

namespace Catch {
template <>
struct StringMaker<modgate::windows::Time> {
    static std::string convert(const modgate::windows::Time& t) { return modgate::windows::format_time(t); }
};
}  // namespace Catch

namespace windows_test {

using modgate::windows::Seconds;
using modgate::windows::Time;
using namespace std::chrono_literals;

// "2026-03-29T01:00:00Z"; a typo in a test is a test failure, not a silent epoch.
inline Time utc(std::string_view text) {
    auto t = modgate::windows::parse_time(text);
    if (!t) FAIL("bad test time " << text);
    return *t;
}

inline modgate::policy::WeeklySlot slot(std::string_view text) {
    std::string error;
    auto s = modgate::policy::parse_slot(text, error);
    if (!s) FAIL("bad test slot " << text << ": " << error);
    return *s;
}

inline modgate::policy::Maintenance maintenance(std::string modality, std::string vendor,
                                                std::vector<std::string_view> slots, std::string zone = "UTC",
                                                Seconds max = 4h, bool on_demand = true) {
    modgate::policy::Maintenance m;
    m.modality = std::move(modality);
    m.vendor = std::move(vendor);
    for (auto s : slots) m.schedule.push_back(slot(s));
    m.timezone = std::move(zone);
    m.max_duration = max;
    m.on_demand = on_demand;
    return m;
}

}  // namespace windows_test
