// status and window list: JSON both ways (nlohmann-json) and the text modgatectl prints.
#include "gateway/control/status.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gateway/windows/types.hpp"

namespace modgate::control {

using nlohmann::json;

namespace {

json window_json(const WindowStatus& w) {
    json j = {{"modality", w.modality}, {"vendor", w.vendor}, {"open", w.open}};
    if (w.open) {
        j.update({{"opened_at", w.opened_at}, {"ends_at", w.ends_at}, {"remaining_s", w.remaining_s},
                  {"source", w.source}, {"user", w.user}, {"reason", w.reason}});
    }
    if (!w.next_scheduled.empty()) j["next_scheduled"] = w.next_scheduled;
    if (!w.held_by.empty()) j["held_by"] = w.held_by;
    return j;
}

WindowStatus window_from(const json& j) {
    WindowStatus w;
    w.modality = j.at("modality").get<std::string>();
    w.vendor = j.at("vendor").get<std::string>();
    w.open = j.at("open").get<bool>();
    w.opened_at = j.value("opened_at", "");
    w.ends_at = j.value("ends_at", "");
    w.remaining_s = j.value("remaining_s", std::int64_t{0});
    w.source = j.value("source", "");
    w.user = j.value("user", "");
    w.reason = j.value("reason", "");
    w.next_scheduled = j.value("next_scheduled", "");
    w.held_by = j.value("held_by", "");
    return w;
}

std::string remaining(std::int64_t s) { return s > 0 ? windows::format_duration(std::chrono::seconds(s)) : "0s"; }

std::string counts_text(const std::map<std::string, std::uint64_t>& m) {
    std::string out;
    for (const auto& [k, v] : m) out += fmt::format(" {}={}", k, v);
    return out;
}

}  // namespace

json to_json(const std::vector<WindowStatus>& ws) {
    json a = json::array();
    for (const auto& w : ws) a.push_back(window_json(w));
    return a;
}

std::vector<WindowStatus> windows_from_json(const json& j) {
    std::vector<WindowStatus> out;
    for (const auto& w : j) out.push_back(window_from(w));
    return out;
}

json to_json(const Status& s) {
    json mods = json::array();
    for (const auto& m : s.modalities) mods.push_back({{"name", m.name}, {"ip", m.ip}, {"mac", m.mac}, {"allows", m.allows}});
    json sinks = json::object();
    for (const auto& [n, k] : s.sinks) sinks[n] = {{"written", k.written}, {"dropped", k.dropped}};
    const auto& p = s.proxy;
    return {{"running", true},
            {"uptime_s", s.uptime_s},
            {"policy", {{"path", s.policy_path}, {"hash", s.hash}, {"mode", s.mode}, {"policy_mode", s.policy_mode}}},
            {"modalities", mods},
            {"proxy", {{"accepted", p.accepted}, {"refused", p.refused}, {"upstream_failed", p.upstream_failed},
                       {"closed", p.closed}, {"live", p.live}, {"bytes_up", p.bytes_up}, {"bytes_down", p.bytes_down},
                       {"pid", p.pid}, {"restarts", p.restarts}}},
            {"drops_available", s.drops_available},
            {"drops", s.drops},
            {"drops_logged", s.drops_logged},
            {"associations", s.associations},
            {"dimse", {{"forwarded", s.dimse_forwarded}, {"refused", s.dimse_refused}}},
            {"sinks", sinks},
            {"loop_max_lag_ms", s.loop_max_lag_ms},
            {"nflog_lost", s.nflog_lost},
            {"windows", to_json(s.windows)}};
}

Status status_from_json(const json& j) {
    Status s;
    s.uptime_s = j.at("uptime_s").get<std::int64_t>();
    const auto& pol = j.at("policy");
    s.policy_path = pol.at("path").get<std::string>();
    s.hash = pol.at("hash").get<std::string>();
    s.mode = pol.at("mode").get<std::string>();
    s.policy_mode = pol.at("policy_mode").get<std::string>();
    for (const auto& m : j.at("modalities"))
        s.modalities.push_back({m.at("name").get<std::string>(), m.at("ip").get<std::string>(),
                                m.at("mac").get<std::string>(), m.at("allows").get<std::uint64_t>()});
    const auto& p = j.at("proxy");
    s.proxy = {p.at("accepted"), p.at("refused"), p.at("upstream_failed"), p.at("closed"),
               p.at("live"),     p.at("bytes_up"), p.at("bytes_down"), p.at("pid"), p.at("restarts")};
    s.drops_available = j.at("drops_available").get<bool>();
    s.drops = j.at("drops").get<std::map<std::string, std::uint64_t>>();
    s.drops_logged = j.at("drops_logged").get<std::map<std::string, std::uint64_t>>();
    s.associations = j.at("associations").get<std::map<std::string, std::uint64_t>>();
    s.dimse_forwarded = j.at("dimse").at("forwarded").get<std::map<std::string, std::uint64_t>>();
    s.dimse_refused = j.at("dimse").at("refused").get<std::map<std::string, std::uint64_t>>();
    for (const auto& [n, k] : j.at("sinks").items()) s.sinks[n] = {k.at("written"), k.at("dropped")};
    s.loop_max_lag_ms = j.at("loop_max_lag_ms").get<std::uint64_t>();
    s.nflog_lost = j.at("nflog_lost").get<std::uint64_t>();
    s.windows = windows_from_json(j.at("windows"));
    return s;
}

std::string render_text(const std::vector<WindowStatus>& ws) {
    if (ws.empty()) return "no maintenance windows in the policy\n";
    std::string out;
    for (const auto& w : ws) {
        auto name = w.modality + "/" + w.vendor;
        if (w.open)
            out += fmt::format("{:<32} open   since {}  until {}  ({} left)  {}  by {}: {}\n", name, w.opened_at, w.ends_at,
                               remaining(w.remaining_s), w.source, w.user.empty() ? "schedule" : w.user, w.reason);
        else
            out += fmt::format("{:<32} closed{}{}\n", name, w.next_scheduled.empty() ? "" : "  next scheduled " + w.next_scheduled,
                               w.held_by.empty() ? "" : "  (held closed by " + w.held_by + ")");
    }
    return out;
}

std::string render_text(const Status& s) {
    auto out = fmt::format("modgated: running, up {}s\npolicy:   {} (hash {}), mode {}{}\nmodalities:\n", s.uptime_s,
                           s.policy_path, s.hash, s.mode,
                           s.mode == s.policy_mode ? "" : fmt::format(" (policy says {})", s.policy_mode));
    for (const auto& m : s.modalities)
        out += fmt::format("  {:<16} {:<15} {}  {} allows\n", m.name, m.ip, m.mac, m.allows);
    const auto& p = s.proxy;
    out += fmt::format("proxy:    {} accepted, {} refused, {} upstream failures, {} live, {} bytes up, {} bytes down\n",
                       p.accepted, p.refused, p.upstream_failed, p.live, p.bytes_up, p.bytes_down);
    out += p.pid ? fmt::format("          process {}, restarted {} times\n", p.pid, p.restarts)
                 : std::string("          process not running\n");
    out += "drops:    counted" + (s.drops_available ? counts_text(s.drops) : std::string(" (unavailable)"));
    out += "\n          logged (rate-limited)" + (s.drops_logged.empty() ? std::string(" none") : counts_text(s.drops_logged));
    if (s.nflog_lost) out += fmt::format(", {} records lost", s.nflog_lost);
    out += "\ndicom:    associations" + (s.associations.empty() ? std::string(" none") : counts_text(s.associations));
    if (!s.dimse_forwarded.empty()) out += "\n          forwarded" + counts_text(s.dimse_forwarded);
    if (!s.dimse_refused.empty()) out += "\n          refused" + counts_text(s.dimse_refused);
    out += "\nevents:  ";
    for (const auto& [n, k] : s.sinks) out += fmt::format(" {} {} written {} dropped;", n, k.written, k.dropped);
    out += fmt::format(" event loop late by at most {} ms\nwindows:\n", s.loop_max_lag_ms);
    auto w = render_text(s.windows);
    for (std::size_t a = 0, b; a < w.size(); a = b + 1) {
        b = w.find('\n', a);
        if (b == std::string::npos) b = w.size();
        out += "  " + w.substr(a, b - a) + "\n";
    }
    return out;
}

}  // namespace modgate::control
