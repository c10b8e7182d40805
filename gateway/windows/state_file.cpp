// Writing and strictly reading the window state file (format in state_file.hpp). Strict because the
// only writer is modgated: anything unexpected is damage, and damage must not open a window.
#include "gateway/windows/state_file.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include <fmt/format.h>

namespace modgate::windows {
namespace {

constexpr std::string_view header = "modgate-windows 1";

bool needs_quotes(std::string_view v) {
    if (v.empty()) return true;
    return std::any_of(v.begin(), v.end(), [](unsigned char c) {
        return c <= 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '=' || c == '#';
    });
}

std::string quote(std::string_view v) {
    if (!needs_quotes(v)) return std::string(v);
    std::string out = "\"";
    for (unsigned char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + '"';
}

// Damaged text quoted in an error message: short, so one bad line cannot flood a log.
std::string shown(std::string_view v) { return v.size() <= 40 ? std::string(v) : std::string(v.substr(0, 40)) + "..."; }

void put(std::string& line, std::string_view key, std::string_view value) {
    line += fmt::format(" {}={}", key, quote(value));
}

std::string open_line(const Record& r) {
    const auto& o = *r.open;
    std::string line = "open";
    put(line, "modality", r.modality);
    put(line, "vendor", r.vendor);
    put(line, "opened_at", format_time(o.opened_at));
    put(line, "ends_at", format_time(o.ends_at));
    put(line, "source", to_string(o.source));
    if (o.who) {
        put(line, "uid", std::to_string(o.who->uid));
        put(line, "user", o.who->user);
    }
    put(line, "reason", o.reason);
    return line + '\n';
}

std::string hold_line(const Record& r) {
    const auto& h = *r.hold;
    std::string line = "hold";
    put(line, "modality", r.modality);
    put(line, "vendor", r.vendor);
    put(line, "since", format_time(h.since));
    if (h.until) put(line, "until", format_time(*h.until));
    put(line, "uid", std::to_string(h.who.uid));
    put(line, "user", h.who.user);
    put(line, "reason", h.reason);
    return line + '\n';
}

// The key=value words of one line, each key once; take() consumes them so leftovers are unknown.
class Fields {
public:
    static std::expected<Fields, std::string> parse(std::string_view s);
    std::optional<std::string> take(const std::string& key) {
        auto it = kv_.find(key);
        if (it == kv_.end()) return std::nullopt;
        auto v = std::move(it->second);
        kv_.erase(it);
        return v;
    }
    std::optional<std::string> leftover() const {
        return kv_.empty() ? std::nullopt : std::optional<std::string>(kv_.begin()->first);
    }

private:
    std::map<std::string, std::string> kv_;
};

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A quoted value starting at s[0] == '"'; advances s past the closing quote.
std::expected<std::string, std::string> unquote(std::string_view& s) {
    std::string out;
    std::size_t i = 1;
    for (; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (i + 1 >= s.size()) break;
        const char e = s[++i];
        if (e == '"' || e == '\\') {
            out += e;
        } else if (e == 'x' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            return std::unexpected(fmt::format("unknown escape '\\{}' in a quoted value", e));
        }
    }
    if (i >= s.size()) return std::unexpected("a quoted value has no closing quote");
    s.remove_prefix(i + 1);
    return out;
}

std::expected<Fields, std::string> Fields::parse(std::string_view s) {
    Fields f;
    for (;;) {
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        if (s.empty()) return f;
        const auto eq = s.find('=');
        const auto key = s.substr(0, eq);
        if (eq == std::string_view::npos || key.empty() ||
            !std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; }))
            return std::unexpected(fmt::format("expected key=value, found '{}'", shown(s.substr(0, s.find(' ')))));
        s.remove_prefix(eq + 1);
        std::string value;
        if (!s.empty() && s.front() == '"') {
            auto v = unquote(s);
            if (!v) return std::unexpected(fmt::format("{}: {}", key, v.error()));
            value = std::move(*v);
            if (!s.empty() && s.front() != ' ')
                return std::unexpected(fmt::format("{}: text right after the closing quote", key));
        } else {
            const auto end = std::min(s.find(' '), s.size());
            value = std::string(s.substr(0, end));
            s.remove_prefix(end);
            if (value.find('"') != std::string::npos)
                return std::unexpected(fmt::format("{}: a quote inside an unquoted value", key));
        }
        if (!f.kv_.emplace(std::string(key), std::move(value)).second)
            return std::unexpected(fmt::format("'{}' appears twice", key));
    }
}

std::expected<std::string, std::string> required(Fields& f, const std::string& key) {
    if (auto v = f.take(key)) return *v;
    return std::unexpected(fmt::format("'{}' is missing", key));
}

std::expected<Time, std::string> time_field(Fields& f, const std::string& key) {
    auto v = required(f, key);
    if (!v) return std::unexpected(v.error());
    if (auto t = parse_time(*v)) return *t;
    return std::unexpected(fmt::format("{}={} is not a UTC time like 2026-03-28T03:00:00Z", key, quote(*v)));
}

// uid and user come together: both or neither.
std::expected<std::optional<Who>, std::string> who_fields(Fields& f) {
    auto uid = f.take("uid");
    auto user = f.take("user");
    if (!uid && !user) return std::nullopt;
    if (!uid || !user) return std::unexpected("'uid' and 'user' go together");
    std::uint32_t n = 0;
    const auto* end = uid->data() + uid->size();
    const auto [p, ec] = std::from_chars(uid->data(), end, n);
    if (uid->empty() || ec != std::errc{} || p != end)
        return std::unexpected(fmt::format("uid={} is not a user id", quote(*uid)));
    return Who{n, std::move(*user)};
}

std::expected<Record, std::string> parse_open(Fields& f) {
    Record r;
    auto modality = required(f, "modality");
    if (!modality) return std::unexpected(modality.error());
    auto vendor = required(f, "vendor");
    if (!vendor) return std::unexpected(vendor.error());
    auto opened = time_field(f, "opened_at");
    if (!opened) return std::unexpected(opened.error());
    auto ends = time_field(f, "ends_at");
    if (!ends) return std::unexpected(ends.error());
    auto source_text = required(f, "source");
    if (!source_text) return std::unexpected(source_text.error());
    const auto source = source_from_string(*source_text);
    if (!source) return std::unexpected(fmt::format("source={} is not schedule or manual", quote(*source_text)));
    auto who = who_fields(f);
    if (!who) return std::unexpected(who.error());
    auto reason = required(f, "reason");
    if (!reason) return std::unexpected(reason.error());
    if (*ends <= *opened) return std::unexpected("ends_at is not after opened_at");
    if ((*source == Source::manual) != who->has_value())
        return std::unexpected("a manual window names who opened it (uid, user); a scheduled one does not");
    r.modality = std::move(*modality);
    r.vendor = std::move(*vendor);
    r.open = OpenState{*opened, *ends, *source, std::move(*who), std::move(*reason)};
    return r;
}

std::expected<Record, std::string> parse_hold(Fields& f) {
    Record r;
    auto modality = required(f, "modality");
    if (!modality) return std::unexpected(modality.error());
    auto vendor = required(f, "vendor");
    if (!vendor) return std::unexpected(vendor.error());
    auto since = time_field(f, "since");
    if (!since) return std::unexpected(since.error());
    std::optional<Time> until;
    if (auto u = f.take("until")) {
        until = parse_time(*u);
        if (!until)
            return std::unexpected(fmt::format("until={} is not a UTC time like 2026-03-28T03:00:00Z", quote(*u)));
        if (*until <= *since) return std::unexpected("until is not after since");
    }
    auto who = who_fields(f);
    if (!who) return std::unexpected(who.error());
    if (!who->has_value()) return std::unexpected("a hold names who closed the window (uid, user)");
    auto reason = required(f, "reason");
    if (!reason) return std::unexpected(reason.error());
    r.modality = std::move(*modality);
    r.vendor = std::move(*vendor);
    r.hold = Hold{*since, until, std::move(**who), std::move(*reason)};
    return r;
}

}  // namespace

std::vector<Record> snapshot(const WindowSet& set) {
    std::vector<Record> out;
    for (const auto& w : set.windows()) {
        const auto& s = w.state();
        if (s.open || s.hold) out.push_back(Record{w.modality(), w.vendor(), s.open, s.hold});
    }
    return out;
}

std::string format_state(const std::vector<Record>& records) {
    std::string text = "# modgate maintenance windows (state file, written by modgated; times are UTC)\n";
    text += header;
    text += '\n';
    std::size_t lines = 0;
    for (const auto& r : records) {
        if (r.open) {
            text += open_line(r);
            ++lines;
        }
        if (r.hold) {
            text += hold_line(r);
            ++lines;
        }
    }
    return text + fmt::format("end records={}\n", lines);
}

std::expected<std::vector<Record>, std::string> parse_state(std::string_view text) {
    if (text.empty()) return std::unexpected("the file is empty");
    if (text.back() != '\n') return std::unexpected("the file does not end with a newline: it was cut short");
    std::vector<Record> records;
    std::map<std::pair<std::string, std::string>, std::size_t> index;  // pair -> position in records
    bool seen_header = false;
    std::optional<std::size_t> end_line;
    std::size_t count = 0, declared = 0, lineno = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        ++lineno;
        const auto fail = [&](std::string_view what) {
            return std::unexpected(fmt::format("line {}: {}", lineno, what));
        };
        if (line.find_first_not_of(' ') == std::string_view::npos || line.front() == '#') continue;
        if (end_line) return fail(fmt::format("text after the end line (line {})", *end_line));
        if (!seen_header) {
            if (line == header) {
                seen_header = true;
                continue;
            }
            if (line.starts_with("modgate-windows "))
                return fail(fmt::format("version '{}' is not supported (this modgated reads version 1)",
                                        shown(line.substr(16))));
            return fail("not a modgate window state file (the first line should be 'modgate-windows 1')");
        }
        // The writer escapes every control byte (a stray '\r' too): one here is damage.
        if (auto c = std::find_if(line.begin(), line.end(), [](unsigned char b) { return b < 0x20 || b == 0x7f; });
            c != line.end())
            return fail(fmt::format("a control character at column {}", c - line.begin() + 1));
        const auto space = line.find(' ');
        const auto kind = line.substr(0, space);
        auto fields = Fields::parse(space == std::string_view::npos ? std::string_view{} : line.substr(space + 1));
        if (!fields) return fail(fmt::format("{}: {}", shown(kind), fields.error()));
        if (kind == "end") {
            auto n = fields->take("records");
            const auto* b = n ? n->data() : nullptr;
            if (!n || n->empty() || std::from_chars(b, b + n->size(), declared).ptr != b + n->size())
                return fail("the end line must read 'end records=N'");
            if (auto k = fields->leftover()) return fail(fmt::format("end: unknown key '{}'", *k));
            end_line = lineno;
            continue;
        }
        if (kind != "open" && kind != "hold")
            return fail(fmt::format("unknown record '{}' (expected open, hold or end)", shown(kind)));
        auto rec = kind == "open" ? parse_open(*fields) : parse_hold(*fields);
        if (!rec) return fail(fmt::format("{}: {}", kind, rec.error()));
        if (auto k = fields->leftover()) return fail(fmt::format("{}: unknown key '{}'", kind, *k));
        ++count;
        auto [it, fresh] = index.try_emplace({rec->modality, rec->vendor}, records.size());
        if (fresh) {
            records.push_back(std::move(*rec));
            continue;
        }
        auto& existing = records[it->second];
        if ((rec->open && existing.open) || (rec->hold && existing.hold))
            return fail(
                fmt::format("a second {} line for window {}/{}", kind, shown(rec->modality), shown(rec->vendor)));
        if (rec->open) existing.open = std::move(rec->open);
        if (rec->hold) existing.hold = std::move(rec->hold);
    }
    if (!seen_header) return std::unexpected("not a modgate window state file (no 'modgate-windows 1' line)");
    if (!end_line) return std::unexpected("no end line: the file was cut short");
    if (declared != count)
        return std::unexpected(
            fmt::format("the end line counts {} records but the file holds {}: it is damaged", declared, count));
    return records;
}

}  // namespace modgate::windows
