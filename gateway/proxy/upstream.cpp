// Transparent upstream connect with a timer racing the connect (a SYN stuck behind a failed
// ARP otherwise connects ~30 s later).
#include "gateway/proxy/upstream.hpp"

#include <memory>

namespace modgate::proxy {

void connect_upstream(asio::io_context& io, const FlowInfo& flow, std::chrono::seconds timeout, ConnectHandler done) {
    struct Op {
        tcp::socket sock;
        asio::steady_timer timer;
        ConnectHandler done;
        bool finished = false;
    };
    auto op = std::make_shared<Op>(Op{tcp::socket(io), asio::steady_timer(io), std::move(done)});
    error_code ec;
    op->sock.open(tcp::v4(), ec);
    if (!ec) {
        auto fd = op->sock.native_handle();
        if (!set_transparent(fd).empty() || !set_nodelay(fd).empty()) ec = error_code(errno, boost::system::system_category());
    }
    if (!ec) op->sock.bind(tcp::endpoint(asio::ip::address_v4(flow.client.addr.value), 0), ec);
    if (ec) {
        asio::post(io, [op, ec] { op->done(ec, tcp::socket(op->sock.get_executor())); });
        return;
    }
    op->timer.expires_after(timeout);
    op->timer.async_wait([op](const error_code& e) {
        if (e || op->finished) return;
        error_code ignored;
        op->sock.cancel(ignored);
    });
    tcp::endpoint dst(asio::ip::address_v4(flow.server.addr.value), flow.server.port);
    op->sock.async_connect(dst, [op](const error_code& e) {
        op->finished = true;
        op->timer.cancel();
        if (e) {
            op->done(e == asio::error::operation_aborted ? asio::error::timed_out : e, tcp::socket(op->sock.get_executor()));
            return;
        }
        op->done(e, std::move(op->sock));
    });
}

}  // namespace modgate::proxy
