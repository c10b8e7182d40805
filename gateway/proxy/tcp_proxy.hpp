// The transparent TCP listener: every diverted connection arrives here, is matched to its
// allow, checked against the caps, and handed to the handler for its service.
#pragma once
#include <array>
#include <functional>
#include <memory>
#include <string>

#include "gateway/proxy/asio.hpp"
#include "gateway/proxy/runtime.hpp"

namespace modgate::proxy {

// Builds the session for an accepted connection; the plain relay serves services without a
// protocol handler of their own.
using HandlerFactory = std::function<std::shared_ptr<Session>(asio::io_context&, tcp::socket, FlowInfo, Runtime&)>;

class TcpProxy {
public:
    TcpProxy(asio::io_context& io, Runtime& rt);
    // Binds 0.0.0.0:port with IP_TRANSPARENT; returns an error text, empty on success.
    std::string listen(std::uint16_t port);
    void set_handler(policy::Service s, HandlerFactory f);
    void stop();

private:
    void accept();
    void on_accept(tcp::socket sock);

    asio::io_context& io_;
    Runtime& rt_;
    tcp::acceptor acceptor_;
    std::array<HandlerFactory, 6> handlers_;
};

}  // namespace modgate::proxy
