// logfmt and JSON renderings of an event record.
#include "gateway/events/format.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace modgate::events {

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

std::string format_ts(std::chrono::system_clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    auto secs = std::chrono::system_clock::time_point(std::chrono::seconds(ms / 1000));
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(secs)), ms % 1000);
}

namespace {

void append_logfmt(std::string& out, const Field& f) {
    const auto key = to_string(f.key);
    if (const auto* s = std::get_if<std::string>(&f.value)) {
        out += fmt::format(" {}={}", key, logfmt_value(*s));
    } else if (const auto* i = std::get_if<std::int64_t>(&f.value)) {
        out += fmt::format(" {}={}", key, *i);
    } else if (const auto* d = std::get_if<double>(&f.value)) {
        out += fmt::format(" {}={:.3f}", key, *d);
    } else if (const auto* c = std::get_if<Counts>(&f.value)) {
        for (const auto& [name, n] : *c) out += fmt::format(" {}={}", name, n);
    }
}

}  // namespace

std::string logfmt_line(const Record& r) {
    const auto& s = r.spec();
    auto out = fmt::format("ts={} level={} component={} event={}", format_ts(r.ts), to_string(r.level), s.component,
                           s.name);
    for (const auto& f : r.fields) append_logfmt(out, f);
    return out;
}

nlohmann::json to_json(const Record& r) {
    const auto& s = r.spec();
    nlohmann::json j = {{"seq", r.seq},       {"ts", format_ts(r.ts)}, {"level", to_string(r.level)},
                        {"component", s.component}, {"event", s.name}};
    for (const auto& f : r.fields) {
        auto key = std::string(to_string(f.key));
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, Counts>) {
                    auto& o = j[key] = nlohmann::json::object();
                    for (const auto& [name, n] : v) o[name] = n;
                } else {
                    j[key] = v;
                }
            },
            f.value);
    }
    return j;
}

}  // namespace modgate::events
