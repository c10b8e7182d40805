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

namespace {

// What a follower too slow to keep up lost, said in its own stream before the next line it gets
// (the same record kind a sink emits when it falls behind).
std::string lost_line(const EventFilter& filter, std::uint64_t n) {
    events::Record r;
    r.kind = events::Kind::events_dropped;
    r.level = events::Level::warning;
    r.ts = std::chrono::system_clock::now();
    r.fields = {{events::Key::sink, std::string("follow")}, {events::Key::dropped, static_cast<std::int64_t>(n)}};
    return filter.format(r);
}

}  // namespace

control::Reply follow_events(asio::io_context& io, const EventFilter& filter, const std::shared_ptr<control::Stream>& out) {
    auto reply = list_events(filter);
    std::weak_ptr<control::Stream> weak = out;
    auto lost = std::make_shared<std::uint64_t>(0);  // touched on the event loop only
    // Followers run wherever an event is emitted (a sink's writer thread emits its summary):
    // hand each line to the event loop, which owns the socket.
    events::Bus::get().follow([&io, filter, weak, lost](const events::Bus::RecordPtr& r) {
        auto s = weak.lock();
        if (!s || !s->open()) return false;
        if (filter.matches(*r))
            asio::post(io, [weak, lost, filter, line = filter.format(*r)]() mutable {
                auto live = weak.lock();
                if (!live) return;
                if (*lost && live->send(lost_line(filter, *lost))) *lost = 0;
                if (*lost || !live->send(std::move(line))) ++*lost;
            });
        return true;
    });
    return reply;
}

}  // namespace modgate::daemon
