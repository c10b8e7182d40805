// Bounds-checked cursors over caller-owned bytes: every read states how much it needs and fails
// instead of running past its parent, so a length field can never move a reader out of bounds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace modgate::dicom {

using Bytes = std::span<const std::uint8_t>;
using Buffer = std::vector<std::uint8_t>;

inline std::uint16_t load_be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}
inline std::uint16_t load_le16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t load_le32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
}

inline std::string_view as_text(Bytes b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// A read cursor over one parent's bytes. `base` is the absolute offset of data[0] in the PDU, so
// errors can name the byte where a problem starts. Children are carved out with sub(), which
// only succeeds when the parent still holds that many bytes.
class Reader {
public:
    Reader() = default;
    Reader(Bytes data, std::size_t base) : data_(data), base_(base) {}

    std::size_t remaining() const { return data_.size() - pos_; }
    bool empty() const { return remaining() == 0; }
    std::size_t offset() const { return base_ + pos_; }  // absolute offset of the next byte

    bool u8(std::uint8_t& v) {
        if (remaining() < 1) return false;
        v = data_[pos_++];
        return true;
    }
    bool be16(std::uint16_t& v) {
        if (remaining() < 2) return false;
        v = load_be16(data_.data() + pos_);
        pos_ += 2;
        return true;
    }
    bool be32(std::uint32_t& v) {
        if (remaining() < 4) return false;
        v = load_be32(data_.data() + pos_);
        pos_ += 4;
        return true;
    }
    bool le16(std::uint16_t& v) {
        if (remaining() < 2) return false;
        v = load_le16(data_.data() + pos_);
        pos_ += 2;
        return true;
    }
    bool le32(std::uint32_t& v) {
        if (remaining() < 4) return false;
        v = load_le32(data_.data() + pos_);
        pos_ += 4;
        return true;
    }
    bool take(std::size_t n, Bytes& out) {
        if (remaining() < n) return false;
        out = data_.subspan(pos_, n);
        pos_ += n;
        return true;
    }
    bool skip(std::size_t n) {
        if (remaining() < n) return false;
        pos_ += n;
        return true;
    }
    // Carves the next n bytes out as a child reader; false when the parent holds fewer.
    bool sub(std::size_t n, Reader& child) {
        if (remaining() < n) return false;
        child = Reader(data_.subspan(pos_, n), offset());
        pos_ += n;
        return true;
    }

private:
    Bytes data_;
    std::size_t base_ = 0;
    std::size_t pos_ = 0;
};

// Appends big- and little-endian fields; lengths that are only known afterwards are patched in.
class Writer {
public:
    explicit Writer(Buffer& out) : out_(out) {}

    std::size_t size() const { return out_.size(); }
    void u8(std::uint8_t v) { out_.push_back(v); }
    void be16(std::uint16_t v) {
        out_.push_back(static_cast<std::uint8_t>(v >> 8));
        out_.push_back(static_cast<std::uint8_t>(v));
    }
    void be32(std::uint32_t v) {
        be16(static_cast<std::uint16_t>(v >> 16));
        be16(static_cast<std::uint16_t>(v));
    }
    void le16(std::uint16_t v) {
        out_.push_back(static_cast<std::uint8_t>(v));
        out_.push_back(static_cast<std::uint8_t>(v >> 8));
    }
    void le32(std::uint32_t v) {
        le16(static_cast<std::uint16_t>(v));
        le16(static_cast<std::uint16_t>(v >> 16));
    }
    void bytes(Bytes b) { out_.insert(out_.end(), b.begin(), b.end()); }
    void text(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
    void zeros(std::size_t n) { out_.insert(out_.end(), n, std::uint8_t{0}); }
    void patch_be16(std::size_t at, std::uint16_t v) {
        out_[at] = static_cast<std::uint8_t>(v >> 8);
        out_[at + 1] = static_cast<std::uint8_t>(v);
    }
    void patch_be32(std::size_t at, std::uint32_t v) {
        patch_be16(at, static_cast<std::uint16_t>(v >> 16));
        patch_be16(at + 2, static_cast<std::uint16_t>(v));
    }
    void patch_le32(std::size_t at, std::uint32_t v) {
        out_[at] = static_cast<std::uint8_t>(v);
        out_[at + 1] = static_cast<std::uint8_t>(v >> 8);
        out_[at + 2] = static_cast<std::uint8_t>(v >> 16);
        out_[at + 3] = static_cast<std::uint8_t>(v >> 24);
    }

private:
    Buffer& out_;
};

}  // namespace modgate::dicom
