// Formatting of the netlink door's errors.
#include "gateway/nft/error.hpp"

#include <cstring>

#include <fmt/format.h>

namespace modgate::nft {

std::string KernelError::str() const {
    std::string where;
    if (!origin.what.empty() && origin.line)
        where = fmt::format(" (\"{}\", policy line {}:{})", origin.what, origin.line, origin.col);
    else if (!origin.what.empty())
        where = fmt::format(" (\"{}\")", origin.what);
    else if (origin.line)
        where = fmt::format(" (policy line {}:{})", origin.line, origin.col);
    std::string out = fmt::format("{}{}: {}", object, where, std::strerror(code));
    if (!detail.empty()) out += ": " + detail;
    return out;
}

Error sys_error(const std::string& what, int err) {
    return Error{err, fmt::format("{}: {}", what, std::strerror(err)), {}};
}

Error model_error(std::string message) { return Error{0, std::move(message), {}}; }

}  // namespace modgate::nft
