// logfmt event lines through spdlog; timestamps in UTC with milliseconds, for SIEM ingestion.
#include "gateway/events/events.hpp"

#include <atomic>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace modgate::events {
namespace {

std::atomic<std::uint64_t> count{0};
std::mutex init_mutex;
std::shared_ptr<spdlog::logger> sink_logger;

spdlog::level::level_enum to_spd(Level l) {
    switch (l) {
        case Level::debug: return spdlog::level::debug;
        case Level::info: return spdlog::level::info;
        case Level::warning: return spdlog::level::warn;
        case Level::error: return spdlog::level::err;
        case Level::critical: return spdlog::level::critical;
    }
    return spdlog::level::info;
}

const char* level_name(Level l) {
    switch (l) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warning: return "warning";
        case Level::error: return "error";
        case Level::critical: return "critical";
    }
    return "info";
}

std::shared_ptr<spdlog::logger> logger() {
    std::lock_guard lock(init_mutex);
    if (!sink_logger) {
        sink_logger = std::make_shared<spdlog::logger>("events", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        sink_logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
        sink_logger->flush_on(spdlog::level::debug);
    }
    return sink_logger;
}

}  // namespace

std::string logfmt_value(std::string_view v) {
    bool quote = v.empty();
    for (char c : v)
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) quote = true;
    if (!quote) return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
            continue;
        }
        out += c;
    }
    return out + "\"";
}

Event::Event(std::string_view component, std::string_view name, Level level) : component_(component), level_(level) {
    line_ = fmt::format("level={} component={} event={}", level_name(level), component, name);
}

Event::~Event() {
    ++count;
    auto l = logger();
    l->log(to_spd(level_), "{}", line_);
}

Event& Event::kv(std::string_view key, std::string_view value) {
    line_ += fmt::format(" {}={}", key, logfmt_value(value));
    return *this;
}

Event& Event::kv(std::string_view key, std::int64_t value) {
    line_ += fmt::format(" {}={}", key, value);
    return *this;
}

Event& Event::kv(std::string_view key, std::uint64_t value) {
    line_ += fmt::format(" {}={}", key, value);
    return *this;
}

Event& Event::kv(std::string_view key, double value) {
    line_ += fmt::format(" {}={:.3f}", key, value);
    return *this;
}

void init(const std::string& file_path, Level min_level) {
    auto l = logger();
    std::lock_guard lock(init_mutex);
    auto& sinks = l->sinks();
    while (sinks.size() > 1) sinks.pop_back();
    if (!file_path.empty()) sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file_path));
    l->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
    l->set_level(to_spd(min_level));
}

std::uint64_t emitted() { return count.load(); }

}  // namespace modgate::events
