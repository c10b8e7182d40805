// User-information item 0x50 and its sub-items 0x51..0x59 (PS3.7 D.3.3, PS3.8 D.1); sub-items
// of other types 0x5a..0xff are kept as raw bytes so the proxy can forward them.
#include "dicom/item_codec.hpp"

namespace modgate::dicom::detail {
namespace {

Status exact(const Reader& value, std::size_t item_offset) {
    // Every byte of a sub-item must belong to one of its fields: trailing bytes mean the
    // inner lengths and the item length disagree.
    return value.empty() ? Status{} : Status::at(Error::bad_item_length, item_offset + 2);
}

Status decode_role(Reader& v, const ItemHeader& h, RoleSelection& out) {
    if (Status s = read_prefixed_uid(v, out.sop_class_uid); !s) return s;
    if (!v.u8(out.scu_role) || !v.u8(out.scp_role)) return Status::at(Error::item_overrun, v.offset());
    if (out.scu_role > 1 || out.scp_role > 1) return Status::at(Error::bad_field_value, v.offset() - 2);
    return exact(v, h.offset);
}

Status decode_common_ext(Reader& v, const ItemHeader& h, CommonExtendedNegotiation& out) {
    if (Status s = read_prefixed_uid(v, out.sop_class_uid); !s) return s;
    if (Status s = read_prefixed_uid(v, out.service_class_uid); !s) return s;
    const std::size_t at = v.offset();
    std::uint16_t n = 0;
    Reader list;
    if (!v.be16(n) || !v.sub(n, list)) return Status::at(Error::item_overrun, at);
    while (!list.empty()) {
        std::string uid;
        if (Status s = read_prefixed_uid(list, uid); !s) return s;
        out.related_general_sop_classes.push_back(std::move(uid));
    }
    return exact(v, h.offset);
}

Status read_prefixed_bytes(Reader& v, Buffer& out) {
    const std::size_t at = v.offset();
    std::uint16_t n = 0;
    Bytes b;
    if (!v.be16(n) || !v.take(n, b)) return Status::at(Error::item_overrun, at);
    out.assign(b.begin(), b.end());
    return {};
}

Status decode_identity_rq(Reader& v, const ItemHeader& h, UserIdentityRq& out) {
    if (!v.u8(out.type) || !v.u8(out.positive_response_requested))
        return Status::at(Error::item_overrun, v.offset());
    if (Status s = read_prefixed_bytes(v, out.primary); !s) return s;
    if (Status s = read_prefixed_bytes(v, out.secondary); !s) return s;
    return exact(v, h.offset);
}

bool valid_version_name(std::string_view name) {
    if (name.empty() || name.size() > 16) return false;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e) return false;
    }
    return true;
}

}  // namespace

Status decode_user_info(Reader& value, UserInfo& out, bool rq) {
    out = UserInfo{};
    bool seen_impl_uid = false, seen_version = false;
    while (!value.empty()) {
        ItemHeader h;
        Reader v;
        if (Status s = next_item(value, h, v); !s) return s;
        const std::size_t at = h.offset;
        switch (h.type) {
        case item::max_length: {
            if (out.max_length) return Status::at(Error::unexpected_item, at);
            std::uint32_t n = 0;
            if (h.length != 4 || !v.be32(n)) return Status::at(Error::bad_item_length, at + 2);
            out.max_length = n;
            break;
        }
        case item::implementation_class_uid:
            if (seen_impl_uid) return Status::at(Error::unexpected_item, at);
            seen_impl_uid = true;
            if (Status s = read_uid(v, out.implementation_class_uid, at + 4); !s) return s;
            break;
        case item::async_operations_window: {
            if (out.async_window) return Status::at(Error::unexpected_item, at);
            AsyncOperationsWindow w;
            if (h.length != 4 || !v.be16(w.max_invoked) || !v.be16(w.max_performed))
                return Status::at(Error::bad_item_length, at + 2);
            out.async_window = w;
            break;
        }
        case item::role_selection: {
            RoleSelection r;
            if (Status s = decode_role(v, h, r); !s) return s;
            out.roles.push_back(std::move(r));
            break;
        }
        case item::implementation_version_name: {
            if (seen_version) return Status::at(Error::unexpected_item, at);
            seen_version = true;
            Bytes b;
            v.take(v.remaining(), b);
            if (!valid_version_name(as_text(b))) return Status::at(Error::bad_text, at + 4);
            out.implementation_version_name.assign(as_text(b));
            break;
        }
        case item::sop_class_extended_negotiation: {
            SopClassExtendedNegotiation e;
            if (Status s = read_prefixed_uid(v, e.sop_class_uid); !s) return s;
            Bytes rest;
            v.take(v.remaining(), rest);
            e.application_info.assign(rest.begin(), rest.end());
            out.sop_class_extended.push_back(std::move(e));
            break;
        }
        case item::common_extended_negotiation: {
            if (!rq) return Status::at(Error::unexpected_item, at);
            CommonExtendedNegotiation e;
            if (Status s = decode_common_ext(v, h, e); !s) return s;
            out.common_extended.push_back(std::move(e));
            break;
        }
        case item::user_identity_rq: {
            if (!rq || out.identity_rq) return Status::at(Error::unexpected_item, at);
            UserIdentityRq id;
            if (Status s = decode_identity_rq(v, h, id); !s) return s;
            out.identity_rq = std::move(id);
            break;
        }
        case item::user_identity_ac: {
            if (rq || out.identity_ac) return Status::at(Error::unexpected_item, at);
            UserIdentityAc id;
            if (Status s = read_prefixed_bytes(v, id.server_response); !s) return s;
            if (Status s = exact(v, h.offset); !s) return s;
            out.identity_ac = std::move(id);
            break;
        }
        default: {
            if (h.type < 0x5a) return misplaced(h);
            RawItem raw;
            raw.type = h.type;
            Bytes b;
            v.take(v.remaining(), b);
            raw.value.assign(b.begin(), b.end());
            out.unknown.push_back(std::move(raw));
            break;
        }
        }
    }
    return {};
}

bool encode_user_info(Writer& w, const UserInfo& in) {
    ItemWriter info(w, item::user_information);
    bool ok = true;
    if (in.max_length) {
        ItemWriter i(w, item::max_length);
        w.be32(*in.max_length);
        ok &= i.close();
    }
    if (!in.implementation_class_uid.empty())
        ok &= write_uid_item(w, item::implementation_class_uid, in.implementation_class_uid);
    if (in.async_window) {
        ItemWriter i(w, item::async_operations_window);
        w.be16(in.async_window->max_invoked);
        w.be16(in.async_window->max_performed);
        ok &= i.close();
    }
    for (const auto& r : in.roles) {
        ItemWriter i(w, item::role_selection);
        ok &= write_prefixed(w, as_bytes(r.sop_class_uid));
        w.u8(r.scu_role);
        w.u8(r.scp_role);
        ok &= i.close();
    }
    if (!in.implementation_version_name.empty()) {
        ItemWriter i(w, item::implementation_version_name);
        w.text(in.implementation_version_name);
        ok &= i.close();
    }
    for (const auto& e : in.sop_class_extended) {
        ItemWriter i(w, item::sop_class_extended_negotiation);
        ok &= write_prefixed(w, as_bytes(e.sop_class_uid));
        w.bytes(e.application_info);
        ok &= i.close();
    }
    for (const auto& e : in.common_extended) {
        ItemWriter i(w, item::common_extended_negotiation);
        ok &= write_prefixed(w, as_bytes(e.sop_class_uid));
        ok &= write_prefixed(w, as_bytes(e.service_class_uid));
        Buffer list;
        Writer lw(list);
        for (const auto& uid : e.related_general_sop_classes) ok &= write_prefixed(lw, as_bytes(uid));
        ok &= write_prefixed(w, list);
        ok &= i.close();
    }
    if (in.identity_rq) {
        ItemWriter i(w, item::user_identity_rq);
        w.u8(in.identity_rq->type);
        w.u8(in.identity_rq->positive_response_requested);
        ok &= write_prefixed(w, in.identity_rq->primary);
        ok &= write_prefixed(w, in.identity_rq->secondary);
        ok &= i.close();
    }
    if (in.identity_ac) {
        ItemWriter i(w, item::user_identity_ac);
        ok &= write_prefixed(w, in.identity_ac->server_response);
        ok &= i.close();
    }
    for (const auto& raw : in.unknown) {
        ItemWriter i(w, raw.type);
        w.bytes(raw.value);
        ok &= i.close();
    }
    ok &= info.close();
    return ok;
}

}  // namespace modgate::dicom::detail
