// Plain data shared by the maintenance-window code: instants, who acted, and the transitions the
// daemon turns into kernel set-element operations and audit events.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modgate::windows {

// An instant in UTC, to the second: kernel set-element timeouts and the state file need no more.
using Time = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;
using Seconds = std::chrono::seconds;

// A person who asked for something through the control socket (SO_PEERCRED).
struct Who {
    std::uint32_t uid = 0;
    std::string user;
    bool operator==(const Who&) const = default;
};

// What opened the window (or last extended its end).
enum class Source : std::uint8_t { schedule, manual };

enum class Action : std::uint8_t {
    open,    // add the set element with timeout ends_at - at
    extend,  // the element exists and must end at ends_at instead of previous_end; when the two are
             // equal (a re-open that asked for no more than already granted) the kernel has nothing to do
    close,   // delete the element; after an expiry the kernel has usually timed it out already, so a
             // delete must tolerate its absence
};

enum class Cause : std::uint8_t {
    schedule,  // a scheduled slot started
    manual,    // window open / window close through the control socket
    expired,   // ends_at passed
    restored,  // re-created from the state file after a restart or reboot
};

struct Transition {
    std::string modality;
    std::string vendor;
    Action action = Action::open;
    Cause cause = Cause::manual;
    Time at{};                         // the `now` the decision was made at
    Time opened_at{};                  // start of the window's current stretch (see Window)
    Time ends_at{};                    // open/extend: the (new) end; close: equal to `at`
    std::optional<Time> previous_end;  // extend only
    Source source = Source::manual;    // of the window after the transition (open/extend)
    std::optional<Who> who;            // the person behind a manual open/close; none for schedule/expiry
    std::string reason;                // manual: as given; schedule: "schedule Sat 02:00-06:00";
                                       // an expiry: the reason of the window that ended
    bool capped = false;               // the requested or scheduled end was cut at max_duration
    Seconds timeout() const { return ends_at > at ? ends_at - at : Seconds{0}; }
    bool operator==(const Transition&) const = default;
};

const char* to_string(Source);
const char* to_string(Action);
const char* to_string(Cause);
std::optional<Source> source_from_string(std::string_view);

// "4h", "1h30m", "45s": how durations read in the policy and the CLI.
std::string format_duration(Seconds);

// "2026-03-29T01:00:00Z": the form used in the state file and in messages.
std::string format_time(Time);
// Accepts exactly the form format_time writes; nullopt for anything else.
std::optional<Time> parse_time(std::string_view);

}  // namespace modgate::windows
