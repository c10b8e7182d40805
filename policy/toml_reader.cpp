// Implementation of the typed toml++ table reader used by the policy parser.
#include "policy/toml_reader.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace modgate::policy::detail {

Loc loc_of(const toml::node& n) {
    const auto& b = n.source().begin;
    return Loc{static_cast<std::uint32_t>(b.line), static_cast<std::uint32_t>(b.column)};
}

Loc loc_of(const toml::key& k) {
    const auto& b = k.source().begin;
    return Loc{static_cast<std::uint32_t>(b.line), static_cast<std::uint32_t>(b.column)};
}

const char* type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time: return "a date/time";
        default: return "nothing";
    }
}

TableReader::TableReader(const toml::table& t, Diagnostics& d, std::string what)
    : t_(t), d_(d), what_(std::move(what)) {}

Loc TableReader::loc(std::string_view key) const {
    if (const auto* n = t_.get(key)) return loc_of(*n);
    return loc_of(t_);
}

const toml::node* TableReader::node(std::string_view key) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
    return t_.get(key);
}

void TableReader::wrong_type(std::string_view key, const toml::node& n, std::string_view expected) {
    d_.error(loc_of(n), fmt::format("{}: '{}' must be {}, not {}", what_, key, expected, type_name(n)));
}

void TableReader::missing(std::string_view key, std::string_view hint) {
    d_.error(loc_of(t_), fmt::format("{}: missing required key '{}'", what_, key), std::string(hint));
}

std::optional<std::string> TableReader::string(std::string_view key, bool required) {
    const auto* n = node(key);
    if (!n) {
        if (required) missing(key);
        return std::nullopt;
    }
    if (const auto* s = n->as_string()) return s->get();
    wrong_type(key, *n, "a string");
    return std::nullopt;
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                                 bool required) {
    const auto* n = node(key);
    if (!n) {
        if (required) missing(key);
        return std::nullopt;
    }
    const auto* i = n->as_integer();
    if (!i) {
        wrong_type(key, *n, "an integer");
        return std::nullopt;
    }
    if (i->get() < min || i->get() > max) {
        d_.error(loc_of(*n), fmt::format("{}: '{}' is {}, out of range {}..{}", what_, key, i->get(), min, max));
        return std::nullopt;
    }
    return i->get();
}

std::optional<bool> TableReader::boolean(std::string_view key) {
    const auto* n = node(key);
    if (!n) return std::nullopt;
    if (const auto* b = n->as_boolean()) return b->get();
    wrong_type(key, *n, "true or false");
    return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, Loc>>> TableReader::strings(std::string_view key, bool required) {
    const auto* n = node(key);
    if (!n) {
        if (required) missing(key);
        return std::nullopt;
    }
    std::vector<std::pair<std::string, Loc>> out;
    if (const auto* s = n->as_string()) {  // a lone string reads as a list of one
        out.emplace_back(s->get(), loc_of(*n));
        return out;
    }
    const auto* a = n->as_array();
    if (!a) {
        wrong_type(key, *n, "an array of strings");
        return std::nullopt;
    }
    bool ok = true;
    for (const auto& e : *a) {
        if (const auto* s = e.as_string()) {
            out.emplace_back(s->get(), loc_of(e));
        } else {
            d_.error(loc_of(e), fmt::format("{}: '{}' must hold strings, not {}", what_, key, type_name(e)));
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<std::vector<std::pair<std::int64_t, Loc>>> TableReader::integers(std::string_view key, std::int64_t min,
                                                                               std::int64_t max, bool required) {
    const auto* n = node(key);
    if (!n) {
        if (required) missing(key);
        return std::nullopt;
    }
    std::vector<std::pair<std::int64_t, Loc>> out;
    auto take = [&](const toml::node& e) {
        const auto* i = e.as_integer();
        if (!i) {
            d_.error(loc_of(e), fmt::format("{}: '{}' must hold integers, not {}", what_, key, type_name(e)));
            return false;
        }
        if (i->get() < min || i->get() > max) {
            d_.error(loc_of(e), fmt::format("{}: '{}' value {} is out of range {}..{}", what_, key, i->get(), min, max));
            return false;
        }
        out.emplace_back(i->get(), loc_of(e));
        return true;
    };
    bool ok = true;
    if (const auto* a = n->as_array()) {
        for (const auto& e : *a) ok = take(e) && ok;
    } else {
        ok = take(*n);
    }
    if (!ok) return std::nullopt;
    return out;
}

const toml::table* TableReader::subtable(std::string_view key, bool required) {
    const auto* n = node(key);
    if (!n) {
        if (required) missing(key);
        return nullptr;
    }
    if (const auto* t = n->as_table()) return t;
    wrong_type(key, *n, "a table");
    return nullptr;
}

const toml::array* TableReader::array_of_tables(std::string_view key) {
    const auto* n = node(key);
    if (!n) return nullptr;
    const auto* a = n->as_array();
    if (!a || !a->is_array_of_tables()) {
        d_.error(loc_of(*n), fmt::format("'{}' must be written as [[{}]] tables", key, key),
                 fmt::format("start each entry with a line [[{}]]", key));
        return nullptr;
    }
    return a;
}

void TableReader::finish() {
    for (const auto& [k, v] : t_) {
        std::string_view name = k.str();
        if (std::find(known_.begin(), known_.end(), name) != known_.end()) continue;
        auto suggestion = closest(name, known_);
        d_.error(loc_of(k), fmt::format("{}: unknown key '{}'", what_, name),
                 suggestion.empty() ? std::string{} : fmt::format("did you mean '{}'?", suggestion));
    }
}

}  // namespace modgate::policy::detail
