// Command-set parsing and encoding: Implicit VR Little Endian, group 0000 only.
#include "dicom/command.hpp"

#include <array>

#include "dicom/syntax.hpp"

namespace modgate::dicom {
namespace {

constexpr std::array<std::uint16_t, dimse_kinds> request_fields{
    command::c_store, command::c_get,    command::c_find,   command::c_move,
    command::c_echo,  command::c_cancel, command::n_event_report, command::n_get,
    command::n_set,   command::n_action, command::n_create, command::n_delete,
};
constexpr std::array<const char*, dimse_kinds> request_names{
    "C-STORE", "C-GET", "C-FIND", "C-MOVE", "C-ECHO", "C-CANCEL",
    "N-EVENT-REPORT", "N-GET", "N-SET", "N-ACTION", "N-CREATE", "N-DELETE",
};
constexpr std::array<const char*, dimse_kinds> request_rq_names{
    "C-STORE-RQ", "C-GET-RQ", "C-FIND-RQ", "C-MOVE-RQ", "C-ECHO-RQ", "C-CANCEL-RQ",
    "N-EVENT-REPORT-RQ", "N-GET-RQ", "N-SET-RQ", "N-ACTION-RQ", "N-CREATE-RQ", "N-DELETE-RQ",
};
constexpr std::array<const char*, dimse_kinds> response_names{
    "C-STORE-RSP", "C-GET-RSP", "C-FIND-RSP", "C-MOVE-RSP", "C-ECHO-RSP", "C-CANCEL-RSP",
    "N-EVENT-REPORT-RSP", "N-GET-RSP", "N-SET-RSP", "N-ACTION-RSP", "N-CREATE-RSP", "N-DELETE-RSP",
};

// Element tags as (group << 16 | element); group is always 0000 here.
enum Tag : std::uint32_t {
    group_length = 0x0000,
    affected_sop_class = 0x0002,
    requested_sop_class = 0x0003,
    command_field = 0x0100,
    message_id = 0x0110,
    responded_to = 0x0120,
    move_destination = 0x0600,
    priority = 0x0700,
    data_set_type = 0x0800,
    status_tag = 0x0900,
    affected_sop_instance = 0x1000,
    requested_sop_instance = 0x1001,
};

bool read_us(Bytes v, std::optional<std::uint16_t>& out) {
    if (v.size() != 2) return false;
    out = load_le16(v.data());
    return true;
}

bool read_ui(Bytes v, std::string& out) {
    std::string_view uid = strip_uid_padding(as_text(v));
    if (!valid_uid(uid)) return false;
    out.assign(uid);
    return true;
}

// What each request needs before the proxy can judge or answer it.
Status check_required(const Command& c, std::size_t end) {
    auto missing = [&] { return Status::at(Error::missing_command_element, end); };
    if (c.is_response()) {
        if (dimse_index(c.request_field()) < 0 || c.request_field() == command::c_cancel)
            return Status::at(Error::unknown_command_field, end);
        if (!c.responded_to || !c.status) return missing();
        return {};
    }
    if (dimse_index(c.field) < 0) return Status::at(Error::unknown_command_field, end);
    if (c.field == command::c_cancel) return c.responded_to ? Status{} : missing();
    if (!c.message_id) return missing();
    switch (c.field) {
    case command::n_get:
    case command::n_set:
    case command::n_action:
    case command::n_delete:
        if (c.requested_sop_class.empty()) return missing();
        break;
    default:
        if (c.affected_sop_class.empty()) return missing();
    }
    if (c.field == command::c_move && c.move_destination.empty()) return missing();
    return {};
}

// PS3.7: these always carry a dataset (an identifier or the stored object) ...
bool needs_data_set(std::uint16_t f) {
    return f == command::c_store || f == command::c_find || f == command::c_get || f == command::c_move;
}
// ... and these never do.
bool forbids_data_set(std::uint16_t f) {
    return f == command::c_echo || f == command::c_cancel || f == command::n_get ||
           f == command::n_delete || f == (command::c_echo | command::response_bit) ||
           f == (command::c_store | command::response_bit);
}

}  // namespace

int dimse_index(std::uint16_t field) {
    for (std::size_t i = 0; i < request_fields.size(); ++i)
        if (request_fields[i] == field) return static_cast<int>(i);
    return -1;
}

std::uint16_t dimse_field(int index) {
    return index >= 0 && index < dimse_kinds ? request_fields[static_cast<std::size_t>(index)] : 0;
}

const char* dimse_name(int index) {
    return index >= 0 && index < dimse_kinds ? request_names[static_cast<std::size_t>(index)] : "unknown";
}

const char* command_name(std::uint16_t field) {
    const bool rsp = (field & command::response_bit) != 0;
    const int i = dimse_index(static_cast<std::uint16_t>(field & ~command::response_bit));
    if (i < 0 || (rsp && field == (command::c_cancel | command::response_bit))) return "unknown";
    return rsp ? response_names[static_cast<std::size_t>(i)] : request_rq_names[static_cast<std::size_t>(i)];
}

Status parse_command(Bytes bytes, Command& out) {
    out = Command{};
    Reader r(bytes, 0);
    std::optional<std::uint16_t> field, data_set;
    std::int64_t previous = -1;
    while (!r.empty()) {
        const std::size_t at = r.offset();
        std::uint16_t group = 0, element = 0;
        std::uint32_t length = 0;
        Bytes v;
        if (!r.le16(group) || !r.le16(element) || !r.le32(length)) return Status::at(Error::item_overrun, at);
        if (group != 0x0000 || element <= previous) return Status::at(Error::bad_command, at);
        previous = element;
        if (!r.take(length, v)) return Status::at(Error::item_overrun, at + 4);
        const std::size_t value_at = at + 8;
        bool ok = true;
        switch (element) {
        case group_length:
            ok = v.size() == 4 && load_le32(v.data()) == r.remaining();
            break;
        case command_field: ok = read_us(v, field); break;
        case message_id: ok = read_us(v, out.message_id); break;
        case responded_to: ok = read_us(v, out.responded_to); break;
        case priority: ok = read_us(v, out.priority); break;
        case data_set_type: ok = read_us(v, data_set); break;
        case status_tag: ok = read_us(v, out.status); break;
        case affected_sop_class:
            if (!read_ui(v, out.affected_sop_class)) return Status::at(Error::bad_uid, value_at);
            break;
        case requested_sop_class:
            if (!read_ui(v, out.requested_sop_class)) return Status::at(Error::bad_uid, value_at);
            break;
        case affected_sop_instance:
            if (!read_ui(v, out.affected_sop_instance)) return Status::at(Error::bad_uid, value_at);
            break;
        case requested_sop_instance:
            if (!read_ui(v, out.requested_sop_instance)) return Status::at(Error::bad_uid, value_at);
            break;
        case move_destination:
            if (!valid_ae_title(as_text(v))) return Status::at(Error::bad_ae_title, value_at);
            out.move_destination.assign(trim_ae_title(as_text(v)));
            break;
        default:
            // Other command elements (error comment, sub-operation counts, event and action
            // type ids, move originator) are not needed to route; their size was checked.
            break;
        }
        if (!ok) return Status::at(Error::bad_command, at);
    }
    if (!field || !data_set) return Status::at(Error::missing_command_element, bytes.size());
    out.field = *field;
    out.data_set_type = *data_set;
    if (Status s = check_required(out, bytes.size()); !s) return s;
    if ((out.has_data_set() && forbids_data_set(out.field)) || (!out.has_data_set() && needs_data_set(out.field)))
        return Status::at(Error::dataset_presence, bytes.size());
    return {};
}

namespace {

void element(Writer& w, std::uint16_t tag, Bytes value, std::uint8_t pad) {
    const bool odd = value.size() % 2 != 0;
    w.le16(0x0000);
    w.le16(tag);
    w.le32(static_cast<std::uint32_t>(value.size() + (odd ? 1 : 0)));
    w.bytes(value);
    if (odd) w.u8(pad);
}

void us(Writer& w, std::uint16_t tag, std::optional<std::uint16_t> v) {
    if (!v) return;
    const std::array<std::uint8_t, 2> b{static_cast<std::uint8_t>(*v), static_cast<std::uint8_t>(*v >> 8)};
    element(w, tag, b, 0);
}

void text(Writer& w, std::uint16_t tag, std::string_view v, std::uint8_t pad) {
    if (v.empty()) return;
    element(w, tag, {reinterpret_cast<const std::uint8_t*>(v.data()), v.size()}, pad);
}

}  // namespace

void encode_command(const Command& in, Buffer& out) {
    Writer w(out);
    const std::size_t start = out.size();
    w.le16(0x0000);
    w.le16(group_length);
    w.le32(4);
    w.le32(0);  // patched below
    text(w, affected_sop_class, in.affected_sop_class, '\0');
    text(w, requested_sop_class, in.requested_sop_class, '\0');
    us(w, command_field, in.field);
    us(w, message_id, in.message_id);
    us(w, responded_to, in.responded_to);
    text(w, move_destination, in.move_destination, ' ');
    us(w, priority, in.priority);
    us(w, data_set_type, in.data_set_type);
    us(w, status_tag, in.status);
    text(w, affected_sop_instance, in.affected_sop_instance, '\0');
    text(w, requested_sop_instance, in.requested_sop_instance, '\0');
    w.patch_le32(start + 8, static_cast<std::uint32_t>(out.size() - start - 12));
}

Command make_response(const Command& request, std::uint16_t status) {
    Command r;
    r.field = static_cast<std::uint16_t>(request.field | command::response_bit);
    r.responded_to = request.message_id;
    r.data_set_type = command::no_data_set;
    r.status = status;
    r.affected_sop_class.assign(request.sop_class());
    // C-STORE and the N- services name the instance in their responses (PS3.7 9.3.1.2, 10.3).
    if (request.field == command::c_store || request.field >= command::n_event_report)
        r.affected_sop_instance = request.affected_sop_instance.empty() ? request.requested_sop_instance
                                                                        : request.affected_sop_instance;
    return r;
}

}  // namespace modgate::dicom
