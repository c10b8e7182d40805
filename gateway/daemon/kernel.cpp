// Temporary: replaced by the adapter over gateway/nft/ once the netlink engine lands.
#include "gateway/daemon/kernel.hpp"

namespace modgate::daemon {
std::expected<std::unique_ptr<Kernel>, std::string> open_kernel(std::uint16_t) {
    return std::unexpected(std::string("netlink engine not built"));
}
}  // namespace modgate::daemon
