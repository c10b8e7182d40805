// Replacing a small state file so that a crash or power cut leaves either the old or the new
// contents, never a torn file: the one writer for modgated's files under the state directory.
#pragma once
#include <string>
#include <string_view>
#include <sys/types.h>

namespace modgate::windows {

// Writes `bytes` to PATH.tmp in the same directory (created with `mode`, or truncated if left
// over from a crash), fsyncs it, renames it over `path`, then fsyncs the directory so the rename
// itself survives a power cut. Returns an empty string on success, otherwise what failed with the
// system's error text and the path, e.g. "rename /var/lib/modgate/windows.state.tmp to ...: ...";
// on failure the temp file is removed and `path` is untouched. Not for concurrent writers of one path.
std::string write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode = 0600);

}  // namespace modgate::windows
