// The windows' state as a small text file that survives restarts and reboots: the text and its
// parser. Reading it is the caller's job; writing it goes through write_file_atomically
// (gateway/windows/atomic_file.hpp), never a plain open and write.
#pragma once
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/windows/window.hpp"
#include "gateway/windows/window_set.hpp"

namespace modgate::windows {

// What is worth keeping of one window: whether it is open, and whether a manual close holds a
// running slot shut (without that, a restart in the middle of the slot would open it again).
struct Record {
    std::string modality;
    std::string vendor;
    std::optional<OpenState> open;
    std::optional<Hold> hold;
    bool operator==(const Record&) const = default;
};

// Every window with something to keep, in policy order.
std::vector<Record> snapshot(const WindowSet& set);

// The format, version 1. Lines of `key=value` words; values with spaces, quotes, backslashes,
// '=' or '#' are double-quoted, with \" \\ and \xHH (control bytes) inside. Times are UTC.
//
//   # modgate maintenance windows (state file, written by modgated)
//   modgate-windows 1
//   open modality=pet-ct-1 vendor=vendor-remote opened_at=2026-03-28T01:00:00Z ends_at=2026-03-28T03:00:00Z source=manual uid=1000 user=alice reason="CHG-1234 detector firmware"
//   hold modality=pet-ct-1 vendor=vendor-b since=2026-03-28T02:10:00Z until=2026-04-04T01:00:00Z uid=0 user=root reason="incident 77"
//   end records=2
//
// The header makes a foreign file an error; the end line, which counts the records, makes a file
// cut short an error (a missing end line, a wrong count, no final newline), so a half-written
// file is never mistaken for "no windows open". `source=schedule` lines carry no uid/user; `until`
// is absent when the schedule has no later start.
std::string format_state(const std::vector<Record>& records);

// The records of a file format_state wrote. Any damage is an error naming the line: the caller
// should then restore nothing (windows stay closed; scheduled ones reopen on the next tick) and
// raise an alarm. Comment (#) and blank lines are ignored; keys may come in any order; unknown
// keys, repeated keys, and a second open or hold line for the same window are errors.
std::expected<std::vector<Record>, std::string> parse_state(std::string_view text);

}  // namespace modgate::windows
