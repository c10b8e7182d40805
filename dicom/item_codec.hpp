// Internal to the codec: the item header (type, reserved, 16-bit length) shared by A-ASSOCIATE
// items and user-information sub-items, read so that no item can reach past its parent.
#pragma once
#include <string>

#include "dicom/bytes.hpp"
#include "dicom/error.hpp"
#include "dicom/pdu.hpp"
#include "dicom/syntax.hpp"

namespace modgate::dicom::detail {

struct ItemHeader {
    std::uint8_t type = 0;
    std::uint16_t length = 0;
    std::size_t offset = 0;  // absolute offset of the item's type byte
};

// Reads the next item header from `parent` and carves its value out as `value`.
inline Status next_item(Reader& parent, ItemHeader& h, Reader& value) {
    h.offset = parent.offset();
    std::uint8_t reserved = 0;
    if (parent.remaining() < 4) return Status::at(Error::item_overrun, h.offset);
    parent.u8(h.type);
    parent.u8(reserved);
    parent.be16(h.length);
    if (!parent.sub(h.length, value)) return Status::at(Error::item_overrun, h.offset + 2);
    return {};
}

// The whole of `value` is one UID, possibly with its NUL pad.
inline Status read_uid(Reader& value, std::string& out, std::size_t at) {
    Bytes b;
    value.take(value.remaining(), b);
    std::string_view uid = strip_uid_padding(as_text(b));
    if (!valid_uid(uid)) return Status::at(Error::bad_uid, at);
    out.assign(uid);
    return {};
}

// A length-prefixed (16-bit) UID inside a sub-item (role selection, extended negotiation).
inline Status read_prefixed_uid(Reader& value, std::string& out) {
    const std::size_t at = value.offset();
    std::uint16_t n = 0;
    Reader uid;
    if (!value.be16(n) || !value.sub(n, uid)) return Status::at(Error::item_overrun, at);
    return read_uid(uid, out, at);
}

// Items defined somewhere in an A-ASSOCIATE: seen in the wrong place they are "unexpected",
// anything else is "unrecognized" (different A-ABORT reasons).
inline bool defined_item_type(std::uint8_t t) {
    return t == item::application_context || t == item::presentation_context_rq ||
           t == item::presentation_context_ac || t == item::abstract_syntax ||
           t == item::transfer_syntax || (t >= item::user_information && t <= item::user_identity_ac);
}

inline Status misplaced(const ItemHeader& h) {
    return Status::at(defined_item_type(h.type) ? Error::unexpected_item : Error::unknown_item, h.offset);
}

// Writes an item header now and its length once the value is written.
class ItemWriter {
public:
    ItemWriter(Writer& w, std::uint8_t type) : w_(w), start_(w.size()) {
        w_.u8(type);
        w_.u8(0);
        w_.be16(0);
    }
    // False when the value does not fit the 16-bit length.
    bool close() {
        const std::size_t n = w_.size() - start_ - 4;
        if (n > 0xffff) return false;
        w_.patch_be16(start_ + 2, static_cast<std::uint16_t>(n));
        return true;
    }

private:
    Writer& w_;
    std::size_t start_;
};

inline bool write_uid_item(Writer& w, std::uint8_t type, std::string_view uid) {
    ItemWriter item(w, type);
    w.text(uid);
    return item.close();
}

inline bool write_prefixed(Writer& w, Bytes value) {
    if (value.size() > 0xffff) return false;
    w.be16(static_cast<std::uint16_t>(value.size()));
    w.bytes(value);
    return true;
}

inline Bytes as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Decoders and encoders of the user-information item (user_info_codec.cpp).
Status decode_user_info(Reader& value, UserInfo& out, bool rq);
bool encode_user_info(Writer& w, const UserInfo& in);

}  // namespace modgate::dicom::detail
