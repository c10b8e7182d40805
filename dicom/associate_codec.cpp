// A-ASSOCIATE-RQ/AC/RJ, A-RELEASE-RQ/RP and A-ABORT decoding and encoding (PS3.8 9.3.2-9.3.8).
// Every item is read from the bytes its parent still holds (DCMTK dulparse.cc discipline).
#include <algorithm>
#include <array>

#include "dicom/codec.hpp"
#include "dicom/item_codec.hpp"

namespace modgate::dicom {
namespace {

using detail::ItemHeader;
using detail::ItemWriter;
using detail::misplaced;
using detail::next_item;
using detail::read_uid;

constexpr std::size_t called_ae_at = 10, calling_ae_at = 26;

// Version, reserved, called AE, calling AE, 32 reserved bytes (not tested on receipt).
Status decode_fixed(Reader& r, std::uint16_t& version, std::string& called, std::string& calling) {
    Bytes called_raw, calling_raw;
    if (!r.be16(version) || !r.skip(2) || !r.take(ae_field_length, called_raw) ||
        !r.take(ae_field_length, calling_raw) || !r.skip(32))
        return Status::at(Error::bad_pdu_length, 2);
    if (!valid_ae_title(as_text(called_raw))) return Status::at(Error::bad_ae_title, called_ae_at);
    if (!valid_ae_title(as_text(calling_raw))) return Status::at(Error::bad_ae_title, calling_ae_at);
    called.assign(trim_ae_title(as_text(called_raw)));
    calling.assign(trim_ae_title(as_text(calling_raw)));
    return {};
}

// Odd, non-zero, and not seen before in this PDU.
Status check_context_id(std::uint8_t id, std::array<bool, 256>& seen, std::size_t at) {
    if (id % 2 == 0) return Status::at(Error::bad_context_id, at);
    if (seen[id]) return Status::at(Error::duplicate_context_id, at);
    seen[id] = true;
    return {};
}

Status decode_context_rq(Reader& v, const ItemHeader& h, PresentationContextRq& out) {
    if (!v.u8(out.id) || !v.skip(3)) return Status::at(Error::bad_item_length, h.offset + 2);
    bool have_abstract = false;
    while (!v.empty()) {
        ItemHeader sh;
        Reader sv;
        if (Status s = next_item(v, sh, sv); !s) return s;
        if (sh.type == item::abstract_syntax) {
            if (have_abstract) return Status::at(Error::unexpected_item, sh.offset);
            have_abstract = true;
            if (Status s = read_uid(sv, out.abstract_syntax, sh.offset + 4); !s) return s;
        } else if (sh.type == item::transfer_syntax) {
            std::string ts;
            if (Status s = read_uid(sv, ts, sh.offset + 4); !s) return s;
            out.transfer_syntaxes.push_back(std::move(ts));
        } else {
            return misplaced(sh);
        }
    }
    if (!have_abstract || out.transfer_syntaxes.empty()) return Status::at(Error::missing_item, h.offset);
    return {};
}

Status decode_context_ac(Reader& v, const ItemHeader& h, PresentationContextAc& out) {
    std::uint8_t result = 0;
    if (!v.u8(out.id) || !v.skip(1) || !v.u8(result) || !v.skip(1))
        return Status::at(Error::bad_item_length, h.offset + 2);
    if (result > 4) return Status::at(Error::bad_context_result, h.offset + 6);
    out.result = static_cast<ContextResult>(result);
    bool have_ts = false;
    while (!v.empty()) {
        ItemHeader sh;
        Reader sv;
        if (Status s = next_item(v, sh, sv); !s) return s;
        if (sh.type != item::transfer_syntax) return misplaced(sh);
        if (have_ts) return Status::at(Error::unexpected_item, sh.offset);
        have_ts = true;
        if (out.result == ContextResult::acceptance) {
            if (Status s = read_uid(sv, out.transfer_syntax, sh.offset + 4); !s) return s;
        } else if (Status s = read_uid(sv, out.transfer_syntax, sh.offset + 4); !s) {
            // For a rejected context the transfer syntax "is not significant" (PS3.8 9.3.3.2):
            // an invalid one is not an error, but it is not kept, so nothing unchecked is
            // forwarded.
            out.transfer_syntax.clear();
        }
    }
    if (out.result == ContextResult::acceptance && !have_ts) return Status::at(Error::missing_item, h.offset);
    return {};
}

// Items after the fixed part, shared by RQ and AC; `on_context` handles 0x20 or 0x21.
template <class OnContext>
Status decode_items(Reader& r, std::string& app_context, UserInfo& user_info, bool rq,
                    std::uint8_t context_type, OnContext on_context) {
    bool have_app = false, have_user = false;
    std::array<bool, 256> seen{};
    while (!r.empty()) {
        ItemHeader h;
        Reader v;
        if (Status s = next_item(r, h, v); !s) return s;
        if (h.type == item::application_context) {
            if (have_app) return Status::at(Error::unexpected_item, h.offset);
            have_app = true;
            if (Status s = read_uid(v, app_context, h.offset + 4); !s) return s;
        } else if (h.type == context_type) {
            if (Status s = on_context(v, h, seen); !s) return s;
        } else if (h.type == item::user_information) {
            if (have_user) return Status::at(Error::unexpected_item, h.offset);
            have_user = true;
            if (Status s = detail::decode_user_info(v, user_info, rq); !s) return s;
        } else {
            return misplaced(h);
        }
    }
    if (!have_app) return Status::at(Error::missing_item, pdu_header_length + associate_fixed_length);
    return {};
}

Status check_type(const Frame& f, PduType t) {
    if (f.type != t || f.bytes.size() < pdu_header_length) return Status::at(Error::unexpected_pdu, 0);
    return {};
}

Status encode_fixed(Writer& w, PduType type, std::uint16_t version, std::string_view called,
                    std::string_view calling) {
    if (!valid_ae_title(called)) return Status::at(Error::bad_ae_title, called_ae_at);
    if (!valid_ae_title(calling)) return Status::at(Error::bad_ae_title, calling_ae_at);
    w.u8(static_cast<std::uint8_t>(type));
    w.u8(0);
    w.be32(0);  // patched by finish()
    w.be16(version);
    w.be16(0);
    for (std::string_view ae : {called, calling}) {
        w.text(ae);
        w.text(std::string(ae_field_length - ae.size(), ' '));
    }
    w.zeros(32);
    return {};
}

Status finish(Buffer& out, std::size_t start, bool ok) {
    const std::size_t length = out.size() - start - pdu_header_length;
    if (!ok || length > max_associate_length) {
        out.resize(start);
        return Status::at(ok ? Error::pdu_too_long : Error::bad_item_length, 0);
    }
    Writer(out).patch_be32(start + 2, static_cast<std::uint32_t>(length));
    return {};
}

Status encode_four(Buffer& out, PduType type, std::uint8_t b8, std::uint8_t b9, std::uint8_t b7 = 0) {
    Writer w(out);
    w.u8(static_cast<std::uint8_t>(type));
    w.u8(0);
    w.be32(4);
    w.u8(0);
    w.u8(b7);
    w.u8(b8);
    w.u8(b9);
    return {};
}

}  // namespace

Status decode(const Frame& f, AssociateRq& out) {
    if (Status s = check_type(f, PduType::associate_rq); !s) return s;
    out = AssociateRq{};
    Reader r(f.body(), pdu_header_length);
    if (Status s = decode_fixed(r, out.protocol_version, out.called_ae, out.calling_ae); !s) return s;
    auto on_context = [&](Reader& v, const ItemHeader& h, std::array<bool, 256>& seen) -> Status {
        PresentationContextRq pc;
        if (Status s = decode_context_rq(v, h, pc); !s) return s;
        if (Status s = check_context_id(pc.id, seen, h.offset + 4); !s) return s;
        out.contexts.push_back(std::move(pc));
        return {};
    };
    if (Status s = decode_items(r, out.application_context, out.user_info, true,
                                item::presentation_context_rq, on_context); !s)
        return s;
    if (out.contexts.empty()) return Status::at(Error::missing_item, pdu_header_length + associate_fixed_length);
    return {};
}

Status decode(const Frame& f, AssociateAc& out) {
    if (Status s = check_type(f, PduType::associate_ac); !s) return s;
    out = AssociateAc{};
    Reader r(f.body(), pdu_header_length);
    if (Status s = decode_fixed(r, out.protocol_version, out.called_ae, out.calling_ae); !s) return s;
    auto on_context = [&](Reader& v, const ItemHeader& h, std::array<bool, 256>& seen) -> Status {
        PresentationContextAc pc;
        if (Status s = decode_context_ac(v, h, pc); !s) return s;
        if (Status s = check_context_id(pc.id, seen, h.offset + 4); !s) return s;
        out.contexts.push_back(std::move(pc));
        return {};
    };
    return decode_items(r, out.application_context, out.user_info, false,
                        item::presentation_context_ac, on_context);
}

Status decode(const Frame& f, AssociateRj& out) {
    if (Status s = check_type(f, PduType::associate_rj); !s) return s;
    if (f.length() != 4) return Status::at(Error::bad_pdu_length, 2);
    out.result = f.bytes[7];
    out.source = f.bytes[8];
    out.reason = f.bytes[9];
    return {};
}

Status decode(const Frame& f, ReleaseRq&) {
    if (Status s = check_type(f, PduType::release_rq); !s) return s;
    return f.length() == 4 ? Status{} : Status::at(Error::bad_pdu_length, 2);
}

Status decode(const Frame& f, ReleaseRp&) {
    if (Status s = check_type(f, PduType::release_rp); !s) return s;
    return f.length() == 4 ? Status{} : Status::at(Error::bad_pdu_length, 2);
}

Status decode(const Frame& f, Abort& out) {
    if (Status s = check_type(f, PduType::abort); !s) return s;
    if (f.length() != 4) return Status::at(Error::bad_pdu_length, 2);
    out.source = f.bytes[8];
    out.reason = f.bytes[9];
    return {};
}

Status decode(const Frame& f, Pdu& out) {
    auto as = [&](auto value) -> Status {
        Status s = decode(f, value);
        if (s) out = std::move(value);
        return s;
    };
    switch (f.type) {
    case PduType::associate_rq: return as(AssociateRq{});
    case PduType::associate_ac: return as(AssociateAc{});
    case PduType::associate_rj: return as(AssociateRj{});
    case PduType::p_data_tf: return as(PData{});
    case PduType::release_rq: return as(ReleaseRq{});
    case PduType::release_rp: return as(ReleaseRp{});
    case PduType::abort: return as(Abort{});
    }
    return Status::at(Error::unrecognized_pdu_type, 0);
}

Status encode(const AssociateRq& in, Buffer& out) {
    const std::size_t start = out.size();
    Writer w(out);
    if (Status s = encode_fixed(w, PduType::associate_rq, in.protocol_version, in.called_ae, in.calling_ae); !s) {
        out.resize(start);
        return s;
    }
    bool ok = detail::write_uid_item(w, item::application_context, in.application_context);
    for (const auto& pc : in.contexts) {
        ItemWriter i(w, item::presentation_context_rq);
        w.u8(pc.id);
        w.zeros(3);
        ok &= detail::write_uid_item(w, item::abstract_syntax, pc.abstract_syntax);
        for (const auto& ts : pc.transfer_syntaxes) ok &= detail::write_uid_item(w, item::transfer_syntax, ts);
        ok &= i.close();
    }
    ok &= detail::encode_user_info(w, in.user_info);
    return finish(out, start, ok);
}

Status encode(const AssociateAc& in, Buffer& out) {
    const std::size_t start = out.size();
    Writer w(out);
    if (Status s = encode_fixed(w, PduType::associate_ac, in.protocol_version, in.called_ae, in.calling_ae); !s) {
        out.resize(start);
        return s;
    }
    bool ok = detail::write_uid_item(w, item::application_context, in.application_context);
    for (const auto& pc : in.contexts) {
        ItemWriter i(w, item::presentation_context_ac);
        w.u8(pc.id);
        w.u8(0);
        w.u8(static_cast<std::uint8_t>(pc.result));
        w.u8(0);
        ok &= detail::write_uid_item(w, item::transfer_syntax, pc.transfer_syntax);
        ok &= i.close();
    }
    ok &= detail::encode_user_info(w, in.user_info);
    return finish(out, start, ok);
}

Status encode(const AssociateRj& in, Buffer& out) {
    return encode_four(out, PduType::associate_rj, in.source, in.reason, in.result);
}
Status encode(const ReleaseRq&, Buffer& out) { return encode_four(out, PduType::release_rq, 0, 0); }
Status encode(const ReleaseRp&, Buffer& out) { return encode_four(out, PduType::release_rp, 0, 0); }
Status encode(const Abort& in, Buffer& out) { return encode_four(out, PduType::abort, in.source, in.reason); }

Status encode(const Pdu& in, Buffer& out) {
    return std::visit([&](const auto& value) { return encode(value, out); }, in);
}

}  // namespace modgate::dicom
