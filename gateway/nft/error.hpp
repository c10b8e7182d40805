// Errors of the netlink door: an errno, a ready-to-print message and, for a batch the kernel
// rejected, every failing message mapped back to the model object it came from.
#pragma once
#include <cerrno>
#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "policy/ruleset.hpp"

namespace modgate::nft {

// One message of a batch that the kernel refused.
struct KernelError {
    int code = 0;               // positive errno
    std::string object;         // "rule 3 of chain inet modgate from_bridge", "set bridge modgate stations"
    ruleset::Origin origin;     // where the object came from (policy line:col when known)
    std::string detail;         // the kernel's extended-ack text, when it gave one
    std::string str() const;    // object ("what", line:col): strerror[: detail]
};

struct Error {
    int code = 0;                       // positive errno; 0 for errors found before talking to the kernel
    std::string message;                // one or more lines, ready to print
    std::vector<KernelError> kernel;    // per-object errors of a rejected batch, in batch order
};

template <class T>
using Result = std::expected<T, Error>;

// An Error for a failed system call: "WHAT: strerror(errno)".
Error sys_error(const std::string& what, int err = errno);
// An Error for something the model asks that this engine cannot express (code 0).
Error model_error(std::string message);

}  // namespace modgate::nft
