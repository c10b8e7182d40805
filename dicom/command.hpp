// DIMSE command sets (PS3.7 section 9, 10, annex E): group 0000 in Implicit VR Little Endian.
// Parsing keeps what the proxy needs to route and judge a message; encoding builds the
// responses the proxy answers with itself (a refusal).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dicom/bytes.hpp"
#include "dicom/error.hpp"

namespace modgate::dicom {

namespace command {
inline constexpr std::uint16_t c_store = 0x0001;
inline constexpr std::uint16_t c_get = 0x0010;
inline constexpr std::uint16_t c_find = 0x0020;
inline constexpr std::uint16_t c_move = 0x0021;
inline constexpr std::uint16_t c_echo = 0x0030;
inline constexpr std::uint16_t c_cancel = 0x0fff;
inline constexpr std::uint16_t n_event_report = 0x0100;
inline constexpr std::uint16_t n_get = 0x0110;
inline constexpr std::uint16_t n_set = 0x0120;
inline constexpr std::uint16_t n_action = 0x0130;
inline constexpr std::uint16_t n_create = 0x0140;
inline constexpr std::uint16_t n_delete = 0x0150;
inline constexpr std::uint16_t response_bit = 0x8000;
inline constexpr std::uint16_t no_data_set = 0x0101;  // CommandDataSetType: no dataset follows
}  // namespace command

namespace status {
inline constexpr std::uint16_t success = 0x0000;
inline constexpr std::uint16_t not_authorized = 0x0124;      // refused: not authorized
inline constexpr std::uint16_t sop_class_not_supported = 0x0122;
inline constexpr std::uint16_t unrecognized_operation = 0x0211;
inline constexpr std::uint16_t move_destination_unknown = 0xa801;
inline constexpr std::uint16_t pending = 0xff00;
inline constexpr std::uint16_t pending_warning = 0xff01;  // optional keys not supported
}  // namespace status

// The twelve DIMSE requests, 0..11, for counters; -1 for anything else (responses included).
inline constexpr int dimse_kinds = 12;
int dimse_index(std::uint16_t request_field);
std::uint16_t dimse_field(int index);
const char* dimse_name(int index);  // "C-STORE"; "unknown" out of range
// "C-STORE-RQ", "C-STORE-RSP", "C-CANCEL-RQ"; "unknown" for other values.
const char* command_name(std::uint16_t field);

// The command elements the proxy reads. UIDs are held without their NUL pad, the move
// destination without its space padding; an empty string means the element was absent.
struct Command {
    std::uint16_t field = 0;                      // (0000,0100) CommandField
    std::optional<std::uint16_t> message_id;      // (0000,0110)
    std::optional<std::uint16_t> responded_to;    // (0000,0120) MessageIDBeingRespondedTo
    std::optional<std::uint16_t> priority;        // (0000,0700)
    std::uint16_t data_set_type = command::no_data_set;  // (0000,0800)
    std::optional<std::uint16_t> status;          // (0000,0900)
    std::string affected_sop_class;               // (0000,0002)
    std::string requested_sop_class;              // (0000,0003)
    std::string affected_sop_instance;            // (0000,1000)
    std::string requested_sop_instance;           // (0000,1001)
    std::string move_destination;                 // (0000,0600)

    bool is_response() const { return (field & command::response_bit) != 0; }
    std::uint16_t request_field() const { return static_cast<std::uint16_t>(field & ~command::response_bit); }
    bool has_data_set() const { return data_set_type != command::no_data_set; }
    // The SOP class the message acts on: Affected for C-* and N-EVENT-REPORT/N-CREATE,
    // Requested for N-GET/N-SET/N-ACTION/N-DELETE requests.
    std::string_view sop_class() const {
        return affected_sop_class.empty() ? std::string_view{requested_sop_class} : affected_sop_class;
    }
    bool operator==(const Command&) const = default;
};

// Parses a complete command set. Elements must be group 0000, in strictly ascending order,
// inside the set, with the right size for US/UL values and valid UI/AE values; a group length
// element, when present, must match. CommandField and CommandDataSetType are mandatory, and so
// are the elements a request or response of that kind cannot be routed without (MessageID,
// MessageIDBeingRespondedTo, Status, the SOP class, the move destination). Offsets in errors
// are relative to the start of the command set.
Status parse_command(Bytes bytes, Command& out);

// Encodes the set elements in ascending order with a correct group length.
void encode_command(const Command& in, Buffer& out);

// The response to `request` with `status` and no dataset: CommandField | 0x8000,
// MessageIDBeingRespondedTo, the SOP class and instance the request named.
Command make_response(const Command& request, std::uint16_t status);

// Whether `status` keeps a C-FIND/C-GET/C-MOVE request outstanding.
inline bool is_pending(std::uint16_t s) { return s == status::pending || s == status::pending_warning; }

}  // namespace modgate::dicom
