// Collecting and printing located diagnostics in the compiler style operators know from gcc/nft.
#include "policy/diagnostics.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace modgate::policy {

void Diagnostics::error(Loc loc, std::string message, std::string hint) {
    items_.push_back({Severity::error, loc, std::move(message), std::move(hint)});
}

void Diagnostics::warning(Loc loc, std::string message, std::string hint) {
    items_.push_back({Severity::warning, loc, std::move(message), std::move(hint)});
}

std::size_t Diagnostics::errors() const {
    return static_cast<std::size_t>(
        std::count_if(items_.begin(), items_.end(), [](const auto& d) { return d.severity == Severity::error; }));
}

std::size_t Diagnostics::warnings() const { return items_.size() - errors(); }

void Diagnostics::sort() {
    std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        if (a.loc != b.loc) return a.loc < b.loc;
        return a.severity == Severity::error && b.severity == Severity::warning;
    });
}

namespace {

std::string_view line_of(std::string_view text, std::uint32_t line) {
    for (std::uint32_t n = 1; n < line; ++n) {
        auto nl = text.find('\n');
        if (nl == std::string_view::npos) return {};
        text.remove_prefix(nl + 1);
    }
    auto nl = text.find('\n');
    auto l = text.substr(0, nl);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
}

// Spaces (tabs kept) covering the first `col - 1` code points of `line`, so the caret lines up.
std::string caret_pad(std::string_view line, std::uint32_t col) {
    std::string pad;
    std::uint32_t seen = 1;
    for (std::size_t i = 0; i < line.size() && seen < col; ++i) {
        auto c = static_cast<unsigned char>(line[i]);
        if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte: same code point
        pad += c == '\t' ? '\t' : ' ';
        ++seen;
    }
    for (; seen < col; ++seen) pad += ' ';
    return pad;
}

}  // namespace

std::string format(const Diagnostic& d, std::string_view file, std::string_view text) {
    const char* sev = d.severity == Severity::error ? "error" : "warning";
    std::string out;
    if (d.loc.line)
        out = fmt::format("{}:{}:{}: {}: {}\n", file, d.loc.line, d.loc.col, sev, d.message);
    else
        out = fmt::format("{}: {}: {}\n", file, sev, d.message);
    if (d.loc.line) {
        auto l = line_of(text, d.loc.line);
        out += fmt::format("  {}\n  {}^\n", l, caret_pad(l, std::max<std::uint32_t>(d.loc.col, 1)));
    }
    if (!d.hint.empty()) out += fmt::format("  hint: {}\n", d.hint);
    return out;
}

std::string closest(std::string_view word, const std::vector<std::string_view>& candidates) {
    // Optimal string alignment distance: a swap of two neighbours ("mdoe") counts as one edit.
    auto distance = [](std::string_view a, std::string_view b) {
        auto lc = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
        std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
        for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
        for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
        for (std::size_t i = 1; i <= a.size(); ++i)
            for (std::size_t j = 1; j <= b.size(); ++j) {
                std::size_t cost = lc(a[i - 1]) == lc(b[j - 1]) ? 0 : 1;
                d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
                if (i > 1 && j > 1 && lc(a[i - 1]) == lc(b[j - 2]) && lc(a[i - 2]) == lc(b[j - 1]))
                    d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        return d[a.size()][b.size()];
    };
    std::string_view best;
    std::size_t best_d = ~std::size_t{0};
    for (auto c : candidates) {
        auto d = distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    // Close enough to be a typo: at most a third of the word, and at most 3 edits.
    if (best.empty() || best_d > std::min<std::size_t>(3, std::max<std::size_t>(1, word.size() / 3))) return {};
    return std::string(best);
}

}  // namespace modgate::policy
