// Value syntax shared by the codec and the filter: UIDs (PS3.5 9.1) and AE titles (PS3.5 6.2).
#pragma once
#include <string_view>

namespace modgate::dicom {

inline constexpr std::size_t max_uid_length = 64;
inline constexpr std::size_t ae_field_length = 16;

// UIDs are padded to even length with one trailing NUL; comparisons and checks ignore it.
std::string_view strip_uid_padding(std::string_view uid);

// 1..64 characters of [0-9.], no empty component (no leading, trailing or doubled dot).
// Leading zeros inside a component are tolerated: legacy modalities emit them.
bool valid_uid(std::string_view uid);

// An AE title value as it appears on the wire (up to 16 bytes, space padded): every byte
// printable ASCII (0x20..0x7e), no backslash, not all blank. Control characters, NUL included,
// are refused.
bool valid_ae_title(std::string_view raw);

// Leading and trailing spaces are not significant (PS3.5 6.2); compare trimmed titles.
std::string_view trim_ae_title(std::string_view raw);

}  // namespace modgate::dicom
