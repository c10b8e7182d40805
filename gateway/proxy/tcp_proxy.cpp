// Accept loop, flow matching and connection caps; refusals are events, never silent.
#include "gateway/proxy/tcp_proxy.hpp"

#include <fmt/format.h>

#include "gateway/proxy/relay.hpp"

namespace modgate::proxy {

TcpProxy::TcpProxy(asio::io_context& io, Runtime& rt) : io_(io), rt_(rt), acceptor_(io) {}

std::string TcpProxy::listen(std::uint16_t port) {
    error_code ec;
    acceptor_.open(tcp::v4(), ec);
    if (ec) return "socket: " + ec.message();
    auto fd = acceptor_.native_handle();
    if (auto e = set_transparent(fd); !e.empty()) return e;
    if (auto e = set_reuseaddr(fd); !e.empty()) return e;
    acceptor_.bind(tcp::endpoint(asio::ip::address_v4::any(), port), ec);
    if (ec) return fmt::format("bind 0.0.0.0:{}: {}", port, ec.message());
    acceptor_.listen(1024, ec);
    if (ec) return "listen: " + ec.message();
    accept();
    return {};
}

void TcpProxy::set_handler(policy::Service s, HandlerFactory f) { handlers_[static_cast<std::size_t>(s)] = std::move(f); }

void TcpProxy::stop() {
    error_code ignored;
    acceptor_.close(ignored);
}

void TcpProxy::accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket sock) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) on_accept(std::move(sock));
        accept();
    });
}

void TcpProxy::on_accept(tcp::socket sock) {
    FlowInfo flow;
    flow.id = rt_.next_id();
    flow.proto = policy::Proto::tcp;
    flow.client = peer_endpoint(sock.native_handle());
    flow.server = local_endpoint(sock.native_handle());  // tproxy: the original destination
    flow.state = rt_.state();
    auto refuse = [&](std::string_view reason) {
        rt_.refused(flow, reason);
        reset_close(sock.release());
    };
    auto m = flow.state->index.match(flow.client.addr, flow.server.addr, policy::Proto::tcp, flow.server.port);
    if (!m && rt_.window_match) m = rt_.window_match(flow.client.addr, flow.server.addr, flow.server.port, flow.keepalive);
    if (!m) return refuse("no allow matches");  // e.g. a flow removed by a reload, or a window that just closed
    flow.match = *m;

    const auto& p = flow.state->policy;
    std::size_t mod_cap = m->modality->limits.max_connections ? m->modality->limits.max_connections : default_max_connections;
    if (rt_.count_modality(m->modality->ip.addr) >= mod_cap)
        return refuse(fmt::format("modality {} has {} connections (max_connections)", m->modality->name, mod_cap));
    if (m->peer->limits.max_connections && rt_.count_peer(m->peer) >= m->peer->limits.max_connections)
        return refuse(fmt::format("peer {} has {} connections (max_connections)", m->peer->name,
                                  m->peer->limits.max_connections));

    rt_.opened(flow);

    std::shared_ptr<Session> s;
    if (auto& h = handlers_[static_cast<std::size_t>(m->allow->service)]) {
        s = h(io_, std::move(sock), std::move(flow), rt_);
    } else {
        RelayOptions opt;
        opt.connect_timeout = p.gateway.dicom.connect;
        s = std::make_shared<Relay>(io_, std::move(sock), std::move(flow), rt_, opt);
    }
    rt_.add(s);
    s->start();
}

}  // namespace modgate::proxy
