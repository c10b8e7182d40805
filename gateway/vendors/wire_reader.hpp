// A bounds-checked big-endian cursor over caller-owned bytes: every read says how much it needs
// and fails instead of running past its parent, and children are carved out only if they fit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace modgate::vendors {

using Bytes = std::span<const std::uint8_t>;

class WireReader {
public:
    WireReader() = default;
    explicit WireReader(Bytes data) : data_(data) {}

    std::size_t remaining() const { return data_.size() - pos_; }
    bool empty() const { return pos_ == data_.size(); }
    std::size_t pos() const { return pos_; }

    bool u8(std::uint8_t& v) {
        if (remaining() < 1) return false;
        v = data_[pos_++];
        return true;
    }
    bool be16(std::uint16_t& v) {
        if (remaining() < 2) return false;
        v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
        pos_ += 2;
        return true;
    }
    bool be24(std::uint32_t& v) {
        if (remaining() < 3) return false;
        v = (std::uint32_t{data_[pos_]} << 16) | (std::uint32_t{data_[pos_ + 1]} << 8) | data_[pos_ + 2];
        pos_ += 3;
        return true;
    }
    bool be32(std::uint32_t& v) {
        if (remaining() < 4) return false;
        v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
            (std::uint32_t{data_[pos_ + 2]} << 8) | data_[pos_ + 3];
        pos_ += 4;
        return true;
    }
    bool skip(std::size_t n) {
        if (remaining() < n) return false;
        pos_ += n;
        return true;
    }
    bool take(std::size_t n, Bytes& out) {
        if (remaining() < n) return false;
        out = data_.subspan(pos_, n);
        pos_ += n;
        return true;
    }
    // A child of exactly n bytes; fails when the child claims more than this parent has left.
    bool sub(std::size_t n, WireReader& child) {
        Bytes b;
        if (!take(n, b)) return false;
        child = WireReader(b);
        return true;
    }

private:
    Bytes data_;
    std::size_t pos_ = 0;
};

}  // namespace modgate::vendors
