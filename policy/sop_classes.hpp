// Friendly names for DICOM SOP classes and transfer syntaxes, so IT can write "PET" or "CT"
// instead of UIDs (raw UIDs are accepted too).
#pragma once
#include <span>
#include <string_view>

namespace modgate::policy {

struct UidGroup {
    std::string_view name;
    std::string_view description;
    std::span<const std::string_view> uids;
};

std::span<const UidGroup> sop_class_groups();
std::span<const UidGroup> transfer_syntax_names();

// Case-insensitive look-up by name; nullptr when unknown.
const UidGroup* find_sop_class_group(std::string_view name);
const UidGroup* find_transfer_syntax(std::string_view name);

// A DICOM UID: 1..64 characters of digits and dots, no empty or leading-zero components.
bool valid_uid(std::string_view uid);

}  // namespace modgate::policy
