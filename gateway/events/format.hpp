// Formatters of event records: logfmt (the line format of stderr and files) and JSON.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "gateway/events/events.hpp"

namespace modgate::events {

// Quotes a logfmt value when it is empty or holds spaces, quotes, '=' or control characters.
std::string logfmt_value(std::string_view v);

// "ts=2026-11-29T10:44:56.615Z level=info component=filter event=drop rule=flow ..."
std::string logfmt_line(const Record& r);

// ISO 8601 UTC with milliseconds.
std::string format_ts(std::chrono::system_clock::time_point t);

// {"seq":..,"ts":"..","level":"info","component":"filter","event":"drop","rule":"flow",...}:
// integers and ports as numbers, durations as seconds, counts as an object.
nlohmann::json to_json(const Record& r);

}  // namespace modgate::events
