// Sinks from the policy and the `events` control command.
#include "gateway/daemon/event_feed.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gateway/control/exit_code.hpp"
#include "gateway/events/bus.hpp"
#include "gateway/events/format.hpp"
#include "gateway/events/sink.hpp"

namespace modgate::daemon {

using events::Level;

events::Level level_of(const policy::Logging& l) {
    if (l.level == "debug" || l.level == "trace") return Level::debug;
    if (l.level == "warning") return Level::warning;
    if (l.level == "error") return Level::error;
    return Level::info;
}

std::vector<std::shared_ptr<events::Sink>> make_sinks(const policy::Logging& l, const std::string& extra_file,
                                                      std::string& error) {
    auto level = level_of(l);
    std::vector<std::shared_ptr<events::Sink>> out{events::LogfmtSink::to_stderr(level)};
    std::vector<std::string> files;
    if (!extra_file.empty()) files.push_back(extra_file);
    for (const auto& s : l.sinks)
        if (s.type == policy::SinkType::file && std::find(files.begin(), files.end(), s.target) == files.end())
            files.push_back(s.target);
    for (const auto& path : files) {
        auto sink = events::LogfmtSink::to_file(path, level, error);
        if (!sink) return {};
        out.push_back(std::move(sink));
    }
    return out;
}

bool EventFilter::matches(const events::Record& r) const {
    if (r.level < min_level) return false;
    if (kind && r.kind != *kind) return false;
    if (modality.empty()) return true;
    if (r.text(events::Key::modality) == modality) return true;
    auto addr_is = [&](events::Key k) {
        auto a = r.text(k);
        return a == modality_ip || a.starts_with(modality_ip + ":");
    };
    return addr_is(events::Key::src) || addr_is(events::Key::dst);
}

std::string EventFilter::format(const events::Record& r) const {
    return (json ? events::to_json(r).dump() : events::logfmt_line(r)) + "\n";
}

std::optional<EventFilter> parse_filter(const control::Fields& f, const policy::Policy& p, control::Reply& refusal) {
    EventFilter out;
    out.json = f.contains("json");
    if (auto it = f.find("kind"); it != f.end()) {
        out.kind = events::kind_from_name(it->second);
        if (!out.kind) {
            refusal = {Exit::invalid, fmt::format("unknown event kind '{}' (see docs/events.md)", it->second), {}};
            return std::nullopt;
        }
    }
    if (auto it = f.find("level"); it != f.end()) {
        auto l = events::level_from_string(it->second);
        if (!l) {
            refusal = {Exit::invalid, fmt::format("unknown level '{}' (debug, info, warning, error, critical)", it->second), {}};
            return std::nullopt;
        }
        out.min_level = *l;
    }
    if (auto it = f.find("modality"); it != f.end()) {
        const auto* m = p.find_modality(it->second);
        if (!m) {
            refusal = {Exit::invalid, fmt::format("unknown modality '{}'", it->second), {}};
            return std::nullopt;
        }
        out.modality = m->name;
        out.modality_ip = m->ip.addr.str();
    }
    return out;
}

control::Reply list_events(const EventFilter& filter) {
    std::string body;
    for (const auto& r : events::Bus::get().recent())
        if (filter.matches(*r)) body += filter.format(*r);
    return {Exit::ok, {}, body};
}

control::Reply follow_events(asio::io_context& io, const EventFilter& filter, const std::shared_ptr<control::Stream>& out) {
    auto reply = list_events(filter);
    std::weak_ptr<control::Stream> weak = out;
    // Followers run wherever an event is emitted (a sink's writer thread emits its summary):
    // hand each line to the event loop, which owns the socket.
    events::Bus::get().follow([&io, filter, weak](const events::Bus::RecordPtr& r) {
        auto s = weak.lock();
        if (!s || !s->open()) return false;
        if (filter.matches(*r))
            asio::post(io, [weak, line = filter.format(*r)]() mutable {
                if (auto live = weak.lock()) (void)live->send(std::move(line));  // a client too slow loses lines
            });
        return true;
    });
    return reply;
}

}  // namespace modgate::daemon
