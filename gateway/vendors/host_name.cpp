// Host-name validation and ASCII case folding for the vendor SNI and DNS code.
#include "gateway/vendors/host_name.hpp"

namespace modgate::vendors {

namespace {

bool is_ldh(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_label(std::string_view label) {
    if (label.empty() || label.size() > max_label) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
        if (!is_ldh(c)) return false;
    return true;
}

}  // namespace

bool is_host_name(std::string_view name) {
    if (name.empty() || name.size() > max_host_name) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = name.find('.', start);
        const std::string_view label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (!is_label(label)) return false;  // also rejects empty labels: "a..b", ".a", "a."
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

std::string_view strip_trailing_dot(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    return name;
}

}  // namespace modgate::vendors
