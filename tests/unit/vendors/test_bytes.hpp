// Test helpers for the vendor codecs: hex vectors, and a byte builder whose length-prefixed
// blocks remember where each length field sits and how much room its parent leaves it.
#pragma once
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vendors_test {

using Buffer = std::vector<std::uint8_t>;

// Used for file-scope vectors, before Catch2 runs: a bad literal stops the program at once.
inline Buffer hex(std::string_view text) {
    auto nibble = [](char c) -> std::uint8_t {
        if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
        if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
        std::fprintf(stderr, "bad hex digit '%c' in a test vector\n", c);
        std::abort();
    };
    std::string digits;
    for (char c : text)
        if (c != ' ' && c != '\n') digits += c;
    if (digits.size() % 2 != 0) {
        std::fprintf(stderr, "odd number of hex digits in a test vector\n");
        std::abort();
    }
    Buffer out;
    for (std::size_t i = 0; i < digits.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>((nibble(digits[i]) << 4) | nibble(digits[i + 1])));
    return out;
}

inline Buffer bytes_of(std::string_view s) { return Buffer(s.begin(), s.end()); }

inline Buffer cat(Buffer a, const Buffer& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// A length field inside a built message: `room` is how many bytes its parent block (or the
// whole message, at top level) holds after the field, i.e. the most the field may claim.
struct LengthField {
    std::string name;
    std::size_t offset = 0;
    std::size_t width = 0;
    std::size_t room = 0;
};

class Builder {
public:
    Builder& u8(std::uint64_t v) { return put(v, 1); }
    Builder& u16(std::uint64_t v) { return put(v, 2); }
    Builder& u24(std::uint64_t v) { return put(v, 3); }
    Builder& u32(std::uint64_t v) { return put(v, 4); }
    Builder& raw(const Buffer& b) {
        out_.insert(out_.end(), b.begin(), b.end());
        return *this;
    }
    Builder& text(std::string_view s) { return raw(bytes_of(s)); }
    Builder& zeros(std::size_t n) { return raw(Buffer(n, 0)); }

    // A big-endian length of `width` bytes counting what follows until the matching close().
    Builder& open(std::size_t width, std::string name) {
        fields_.push_back({std::move(name), out_.size(), width, 0});
        open_.push_back({fields_.size() - 1, open_.empty() ? npos : open_.back().index});
        zeros(width);
        return *this;
    }
    Builder& close() {
        REQUIRE(!open_.empty());
        const auto [index, parent] = open_.back();
        open_.pop_back();
        LengthField& f = fields_[index];
        const std::size_t len = out_.size() - f.offset - f.width;
        set(f.offset, f.width, len);
        ends_.push_back({index, out_.size(), parent});
        return *this;
    }

    std::size_t size() const { return out_.size(); }
    Buffer bytes() const {
        REQUIRE(open_.empty());
        return out_;
    }
    // Every length field with the room its parent leaves it.
    std::vector<LengthField> fields() const {
        REQUIRE(open_.empty());
        std::vector<LengthField> out = fields_;
        for (const auto& e : ends_) {
            const std::size_t parent_end = e.parent == npos ? out_.size() : end_of(e.parent);
            out[e.index].room = parent_end - out[e.index].offset - out[e.index].width;
        }
        return out;
    }

    static void set(Buffer& b, std::size_t offset, std::size_t width, std::size_t value) {
        for (std::size_t i = 0; i < width; ++i)
            b[offset + i] = static_cast<std::uint8_t>(value >> (8 * (width - 1 - i)));
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    struct Open {
        std::size_t index;
        std::size_t parent;
    };
    struct End {
        std::size_t index;
        std::size_t end;
        std::size_t parent;
    };

    Builder& put(std::uint64_t v, std::size_t width) {
        for (std::size_t i = 0; i < width; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * (width - 1 - i))));
        return *this;
    }
    void set(std::size_t offset, std::size_t width, std::size_t value) { set(out_, offset, width, value); }
    std::size_t end_of(std::size_t index) const {
        for (const auto& e : ends_)
            if (e.index == index) return e.end;
        return out_.size();
    }

    Buffer out_;
    std::vector<LengthField> fields_;
    std::vector<Open> open_;
    std::vector<End> ends_;
};

}  // namespace vendors_test
