// Structured events in logfmt (`event=name key=value ...`, values quoted when they need it),
// one named logger per component. No patient data: callers pass only addresses, AE titles,
// UIDs, ids, counts and reasons.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/net.hpp"

namespace spdlog {
class logger;
}

namespace modgate::events {

enum class Level { debug, info, warning, error, critical };

class Event {
public:
    Event(std::string_view component, std::string_view name, Level level = Level::info);
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event();  // emits

    Event& kv(std::string_view key, std::string_view value);
    Event& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
    Event& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
    Event& kv(std::string_view key, std::int64_t value);
    Event& kv(std::string_view key, std::uint64_t value);
    Event& kv(std::string_view key, int value) { return kv(key, static_cast<std::int64_t>(value)); }
    Event& kv(std::string_view key, unsigned value) { return kv(key, static_cast<std::uint64_t>(value)); }
    Event& kv(std::string_view key, double value);
    Event& kv(std::string_view key, bool value) { return kv(key, std::string_view(value ? "true" : "false")); }
    Event& kv(std::string_view key, policy::Ipv4 value) { return kv(key, value.str()); }

    const std::string& text() const { return line_; }

private:
    std::string component_;
    Level level_;
    std::string line_;
};

// Quotes a logfmt value when it is empty or holds spaces, quotes, '=' or control characters.
std::string logfmt_value(std::string_view v);

// Sets up the event loggers: every line goes to stderr (journald captures it) and, when given,
// to a file. Safe to call again (on reload).
void init(const std::string& file_path = {}, Level min_level = Level::info);

// Lines emitted since start, for tests that run the daemon in-process.
std::uint64_t emitted();

}  // namespace modgate::events
