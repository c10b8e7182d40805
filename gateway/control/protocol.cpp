// logfmt request lines and status-line replies; values with spaces or quotes are quoted.
#include "gateway/control/protocol.hpp"

#include <cctype>

#include <fmt/format.h>

namespace modgate::control {

namespace {
std::string quote(std::string_view v) {
    bool needs = v.empty();
    for (char c : v)
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) needs = true;
    if (!needs) return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + '"';
}
}  // namespace

std::string encode_request(const Fields& f) {
    std::string out;
    for (const auto& [k, v] : f) {
        if (!out.empty()) out += ' ';
        out += k + "=" + quote(v);
    }
    return out + "\n";
}

std::optional<Fields> decode_request(std::string_view line, std::string& error) {
    Fields f;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\n' || line[i] == '\r')) ++i;
        if (i >= line.size()) break;
        std::size_t k = i;
        while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_' || line[i] == '-')) ++i;
        if (i == k || i >= line.size() || line[i] != '=') {
            error = fmt::format("expected key=value at offset {}", k);
            return std::nullopt;
        }
        std::string key(line.substr(k, i - k));
        ++i;
        std::string value;
        if (i < line.size() && line[i] == '"') {
            ++i;
            bool closed = false;
            while (i < line.size()) {
                char c = line[i++];
                if (c == '\\' && i < line.size()) {
                    char e = line[i++];
                    value += e == 'n' ? '\n' : e;
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value += c;
                }
            }
            if (!closed) {
                error = "unterminated quoted value";
                return std::nullopt;
            }
        } else {
            while (i < line.size() && line[i] != ' ' && line[i] != '\n' && line[i] != '\r') value += line[i++];
        }
        if (f.contains(key)) {
            error = fmt::format("key '{}' given twice", key);
            return std::nullopt;
        }
        f.emplace(std::move(key), std::move(value));
    }
    if (!f.contains("cmd")) {
        error = "no cmd";
        return std::nullopt;
    }
    return f;
}

std::string encode_reply(const Reply& r) {
    if (r.code == 0) return "ok\n" + r.body;
    std::string msg = r.message;
    for (auto& c : msg)
        if (c == '\n') c = ' ';
    return fmt::format("error {} {}\n{}", r.code, msg, r.body);
}

std::optional<Reply> decode_reply(std::string_view text) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    auto status = text.substr(0, nl);
    Reply r;
    r.body = std::string(text.substr(nl + 1));
    if (status == "ok") return r;
    if (!status.starts_with("error ")) return std::nullopt;
    status.remove_prefix(6);
    auto sp = status.find(' ');
    auto code = status.substr(0, sp);
    if (code.empty() || code.size() > 2 || !std::isdigit(static_cast<unsigned char>(code[0]))) return std::nullopt;
    r.code = std::stoi(std::string(code));
    r.message = sp == std::string_view::npos ? std::string{} : std::string(status.substr(sp + 1));
    if (r.code == 0) r.code = 3;
    return r;
}

}  // namespace modgate::control
