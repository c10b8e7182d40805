// UID and AE title checks; used on every A-ASSOCIATE item and command element that names one.
#include "dicom/syntax.hpp"

namespace modgate::dicom {

std::string_view strip_uid_padding(std::string_view uid) {
    if (!uid.empty() && uid.back() == '\0') uid.remove_suffix(1);
    return uid;
}

bool valid_uid(std::string_view uid) {
    if (uid.empty() || uid.size() > max_uid_length) return false;
    char previous = '.';  // a leading dot counts as an empty first component
    for (char c : uid) {
        if (c == '.') {
            if (previous == '.') return false;
        } else if (c < '0' || c > '9') {
            return false;
        }
        previous = c;
    }
    return previous != '.';
}

bool valid_ae_title(std::string_view raw) {
    if (raw.empty() || raw.size() > ae_field_length) return false;
    bool blank = true;
    for (char c : raw) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e || c == '\\') return false;
        if (c != ' ') blank = false;
    }
    return !blank;
}

std::string_view trim_ae_title(std::string_view raw) {
    while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
    while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
    return raw;
}

}  // namespace modgate::dicom
