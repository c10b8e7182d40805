// The exit codes of modgated and modgatectl, and the codes in control replies (DESIGN.md, "Exit
// codes everywhere"): one definition both programs include.
#pragma once

namespace modgate {

// Unscoped, so `return Exit::runtime;` converts to main's int; the enumerators sit in a
// namespace of their own so that `ok` or `usage` do not leak into namespace modgate.
namespace exit_code {
enum Exit : int {
    ok = 0,              // success
    invalid = 1,         // invalid input or a refused request (bad policy, unknown modality, ...)
    usage = 2,           // bad command line
    runtime = 3,         // kernel error, daemon unreachable
    not_authorised = 4,  // the caller may not do this
};
}  // namespace exit_code

using exit_code::Exit;

}  // namespace modgate
