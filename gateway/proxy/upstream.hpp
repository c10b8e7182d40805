// Opening the proxy's upstream leg transparently: bound to the client's own address (port 0,
// so it never clashes with the client's conntrack entry) and connected to the original
// destination, with a timeout.
#pragma once
#include <chrono>
#include <functional>

#include "gateway/proxy/asio.hpp"
#include "gateway/proxy/runtime.hpp"

namespace modgate::proxy {

using ConnectHandler = std::function<void(const error_code&, tcp::socket)>;

void connect_upstream(asio::io_context& io, const FlowInfo& flow, std::chrono::seconds timeout, ConnectHandler done);

}  // namespace modgate::proxy
