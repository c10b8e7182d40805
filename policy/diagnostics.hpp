// Located diagnostics: FILE:LINE:COL: error|warning: message, the source line, a caret, a hint.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.hpp"

namespace modgate::policy {

enum class Severity { error, warning };

struct Diagnostic {
    Severity severity = Severity::error;
    Loc loc;
    std::string message;
    std::string hint;  // empty when none helps
};

class Diagnostics {
public:
    void error(Loc loc, std::string message, std::string hint = {});
    void warning(Loc loc, std::string message, std::string hint = {});
    const std::vector<Diagnostic>& all() const { return items_; }
    std::size_t errors() const;
    std::size_t warnings() const;
    bool ok() const { return errors() == 0; }
    // Stable order: by position, errors before warnings at the same position.
    void sort();

private:
    std::vector<Diagnostic> items_;
};

// Formats one diagnostic with the line of `text` it points at and a caret under the column.
std::string format(const Diagnostic& d, std::string_view file, std::string_view text);

// Levenshtein-based suggestion: the candidate closest to `word`, or empty if none is close.
std::string closest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace modgate::policy
