// A typed, located reader over one toml++ table: every read records the key as known, wrong
// types and bad values become diagnostics at the value, and finish() reports unknown keys with a
// "did you mean" hint. Internal to the policy loader.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "policy/diagnostics.hpp"

namespace modgate::policy::detail {

Loc loc_of(const toml::node& n);
Loc loc_of(const toml::key& k);
const char* type_name(const toml::node& n);

class TableReader {
public:
    // `what` names the table in messages: "[gateway]", "modality 'pet-ct-1'", "allow #3".
    TableReader(const toml::table& t, Diagnostics& d, std::string what);

    const toml::table& table() const { return t_; }
    Loc loc() const { return loc_of(t_); }
    const std::string& what() const { return what_; }
    void rename(std::string what) { what_ = std::move(what); }

    bool has(std::string_view key) const { return t_.contains(key); }
    Loc loc(std::string_view key) const;  // the value's location, or the table's when absent
    const toml::node* node(std::string_view key);  // marks the key known

    std::optional<std::string> string(std::string_view key, bool required = false);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                        bool required = false);
    std::optional<bool> boolean(std::string_view key);
    // An array of strings; a single string is accepted as a one-element list when lenient.
    std::optional<std::vector<std::pair<std::string, Loc>>> strings(std::string_view key, bool required = false);
    std::optional<std::vector<std::pair<std::int64_t, Loc>>> integers(std::string_view key, std::int64_t min,
                                                                      std::int64_t max, bool required = false);
    const toml::table* subtable(std::string_view key, bool required = false);
    const toml::array* array_of_tables(std::string_view key);

    // Reports a missing required key at the table.
    void missing(std::string_view key, std::string_view hint = {});
    // Reports every key not read, with a suggestion from the known keys.
    void finish();

    Diagnostics& diag() { return d_; }

private:
    const toml::table& t_;
    Diagnostics& d_;
    std::string what_;
    std::vector<std::string_view> known_;
    void wrong_type(std::string_view key, const toml::node& n, std::string_view expected);
};

}  // namespace modgate::policy::detail
