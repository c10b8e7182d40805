// Error texts and the A-ABORT reason each error is reported with.
#include "dicom/error.hpp"

namespace modgate::dicom {

AbortReason abort_reason(Error e) {
    switch (e) {
    case Error::unrecognized_pdu_type:
        return AbortReason::unrecognized_pdu;
    case Error::unexpected_pdu:
        return AbortReason::unexpected_pdu;
    case Error::unknown_item:
        return AbortReason::unrecognized_parameter;
    case Error::unexpected_item:
    case Error::unknown_context_id:
    case Error::pdv_unaccepted_context:
    case Error::interleaved_fragments:
    case Error::dataset_without_command:
    case Error::command_dataset_mismatch:
    case Error::unexpected_response:
        return AbortReason::unexpected_parameter;
    case Error::none:
    case Error::too_many_outstanding:
    case Error::refused_unanswerable:
        return AbortReason::not_specified;
    default:
        return AbortReason::invalid_parameter;
    }
}

const char* describe(Error e) {
    switch (e) {
    case Error::none: return "ok";
    case Error::unrecognized_pdu_type: return "unrecognized PDU type";
    case Error::bad_pdu_length: return "invalid PDU length";
    case Error::pdu_too_long: return "PDU longer than the negotiated maximum";
    case Error::unexpected_pdu: return "PDU not allowed in this association state";
    case Error::item_overrun: return "item length exceeds its parent";
    case Error::unknown_item: return "unrecognized item type";
    case Error::unexpected_item: return "unexpected or repeated item";
    case Error::missing_item: return "mandatory item missing";
    case Error::bad_item_length: return "invalid item length";
    case Error::bad_protocol_version: return "protocol version not supported";
    case Error::bad_application_context: return "application context not supported";
    case Error::bad_ae_title: return "invalid AE title";
    case Error::bad_uid: return "invalid UID";
    case Error::bad_context_id: return "invalid presentation context id";
    case Error::duplicate_context_id: return "duplicate presentation context id";
    case Error::unknown_context_id: return "presentation context id not proposed";
    case Error::bad_context_result: return "invalid presentation context result";
    case Error::bad_max_length: return "maximum length too small";
    case Error::bad_text: return "invalid implementation version name";
    case Error::bad_field_value: return "invalid PDU field value";
    case Error::bad_pdv_length: return "PDV length below 2";
    case Error::bad_pdv_header: return "reserved message control header bits set";
    case Error::pdv_unaccepted_context: return "PDV on a presentation context not accepted";
    case Error::interleaved_fragments: return "fragments of different messages interleaved";
    case Error::dataset_without_command: return "dataset fragment without a command";
    case Error::command_dataset_mismatch: return "command fragment where a dataset must follow";
    case Error::command_too_long: return "command set above the size budget";
    case Error::bad_command: return "malformed command set";
    case Error::missing_command_element: return "mandatory command element missing";
    case Error::unknown_command_field: return "unknown DIMSE command field";
    case Error::dataset_presence: return "dataset presence contradicts the command";
    case Error::sop_class_mismatch: return "SOP class differs from the context's abstract syntax";
    case Error::duplicate_message_id: return "message id already outstanding";
    case Error::unexpected_response: return "response to no outstanding request";
    case Error::too_many_outstanding: return "too many outstanding requests";
    case Error::refused_unanswerable: return "refused message cannot be answered";
    }
    return "unknown error";
}

}  // namespace modgate::dicom
