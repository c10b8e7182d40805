// Why a PDU, item, PDV or command was refused, and the A-ABORT reason each maps to (PS3.8 9.3.8).
// Plain values only: the data plane never throws.
#pragma once
#include <cstdint>

namespace modgate::dicom {

// A-ABORT source 2 (service provider) reasons, PS3.8 table 9-26.
enum class AbortReason : std::uint8_t {
    not_specified = 0,
    unrecognized_pdu = 1,
    unexpected_pdu = 2,
    unrecognized_parameter = 4,
    unexpected_parameter = 5,
    invalid_parameter = 6,
};

enum class Error : std::uint8_t {
    none,
    // framing
    unrecognized_pdu_type,     // PDU type byte is not 1..7
    bad_pdu_length,            // RJ/RELEASE/ABORT not 4, A-ASSOCIATE under 68, P-DATA under 6
    pdu_too_long,              // over 64 KiB (A-ASSOCIATE) or the negotiated maximum (P-DATA)
    unexpected_pdu,            // a valid PDU the association state does not allow
    // structure shared by items, sub-items, PDVs and command elements
    item_overrun,              // an inner length claims more than its parent holds
    unknown_item,              // an item type that is not defined where it appears
    unexpected_item,           // a defined item in the wrong place, or one too many
    missing_item,              // a mandatory item is absent
    bad_item_length,           // a fixed-size item or field of the wrong size
    // A-ASSOCIATE values
    bad_protocol_version,      // bit 0 of the protocol version is not set
    bad_application_context,   // not the DICOM application context name
    bad_ae_title,              // not 1..16 printable characters, backslash, or all blank
    bad_uid,                   // not 1..64 characters of [0-9.] with non-empty components
    bad_context_id,            // even or zero presentation context id
    duplicate_context_id,      // a presentation context id used twice
    unknown_context_id,        // an A-ASSOCIATE-AC context the forwarded RQ did not propose
    bad_context_result,        // result not 0..4, or acceptance of a transfer syntax not proposed
    bad_max_length,            // a maximum length too small to carry one PDV
    bad_text,                  // implementation version name not 1..16 printable characters
    bad_field_value,           // RJ result/source/reason or A-ABORT source out of range
    // P-DATA-TF
    bad_pdv_length,            // PDV item length under 2
    bad_pdv_header,            // message control header bits 2..7 not zero
    pdv_unaccepted_context,    // PDV on a context the AC did not accept
    interleaved_fragments,     // a fragment of another message or context before the last one
    dataset_without_command,   // a dataset fragment when no command announced one
    command_dataset_mismatch,  // a command fragment where the dataset announced must follow
    command_too_long,          // command fragments above the command budget
    // DIMSE command set
    bad_command,               // malformed element list (group, order, length, value size)
    missing_command_element,   // a mandatory command element is absent
    unknown_command_field,     // CommandField is not a DIMSE command
    dataset_presence,          // CommandDataSetType contradicts the command (PS3.7 9.3, 10.3)
    sop_class_mismatch,        // Affected/Requested SOP Class UID is not the context's abstract syntax
    duplicate_message_id,      // a request reusing an outstanding message id
    unexpected_response,       // a response to no outstanding request of that kind on that context
    too_many_outstanding,      // more outstanding requests or queued answers than the budget
    refused_unanswerable,      // policy refused a message that has no response to answer it with
};

AbortReason abort_reason(Error);
const char* describe(Error);  // short, fixed text for audit events; never holds input bytes

// Outcome of a decode step: the error and the absolute byte offset in the PDU where it starts.
struct Status {
    Error error = Error::none;
    std::uint32_t offset = 0;

    bool ok() const { return error == Error::none; }
    explicit operator bool() const { return ok(); }
    static Status at(Error e, std::size_t offset) {
        return Status{e, static_cast<std::uint32_t>(offset)};
    }
};

}  // namespace modgate::dicom
