// UDP flows: created on the first datagram, ended after an idle timeout; every end is an event.
#include "gateway/proxy/udp_proxy.hpp"

#include <sys/socket.h>

#include <fmt/format.h>


namespace modgate::proxy {

// A UDP flow is a session of the runtime like any TCP one: caps, reloads and island see it.
struct UdpProxy::Flow : Session {
    UdpProxy* owner = nullptr;
    FlowInfo info;
    udp::socket upstream;
    std::shared_ptr<udp::socket> reply;
    std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
    std::uint64_t up = 0, down = 0;
    std::array<char, 65536> buf{};
    explicit Flow(asio::io_context& io) : upstream(io) {}
    void start() override {}
    void close(std::string_view reason) override { owner->end({info.client, info.server}, FlowEnd::cut, reason); }
    const FlowInfo& flow() const override { return info; }
};

UdpProxy::UdpProxy(asio::io_context& io, Runtime& rt) : io_(io), rt_(rt), listener_(io), sweeper_(io) {}

UdpProxy::~UdpProxy() { stop(); }

std::string UdpProxy::listen(std::uint16_t port) {
    error_code ec;
    listener_.open(udp::v4(), ec);
    if (ec) return "socket: " + ec.message();
    auto fd = listener_.native_handle();
    for (auto e : {set_transparent(fd), set_reuseaddr(fd), set_recv_orig_dst(fd)})
        if (!e.empty()) return e;
    listener_.bind(udp::endpoint(asio::ip::address_v4::any(), port), ec);
    if (ec) return fmt::format("bind udp 0.0.0.0:{}: {}", port, ec.message());
    listener_.non_blocking(true, ec);
    wait_readable();
    sweep();
    return {};
}

void UdpProxy::stop() {
    error_code ignored;
    listener_.close(ignored);
    sweeper_.cancel();
    for (auto& [k, f] : flows_) f->upstream.close(ignored);
    flows_.clear();
}

void UdpProxy::wait_readable() {
    listener_.async_wait(udp::socket::wait_read, [this](const error_code& ec) {
        if (ec) return;
        drain();
        wait_readable();
    });
}

void UdpProxy::drain() {
    std::array<char, 65536> data;
    alignas(cmsghdr) char control[256];
    for (int i = 0; i < 64; ++i) {
        sockaddr_in from{};
        iovec iov{data.data(), data.size()};
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = recvmsg(listener_.native_handle(), &msg, MSG_DONTWAIT);
        if (n < 0) return;
        auto dst = orig_dst_from_cmsg(control, msg.msg_controllen);
        if (!dst) continue;
        handle(Endpoint::from(from), *dst, data.data(), static_cast<std::size_t>(n));
    }
}

std::shared_ptr<udp::socket> UdpProxy::reply_socket(const Endpoint& server, std::string& error) {
    if (auto it = replies_.find(server); it != replies_.end())
        if (auto s = it->second.lock()) return s;
    auto s = std::make_shared<udp::socket>(io_);
    error_code ec;
    s->open(udp::v4(), ec);
    if (!ec) {
        auto fd = s->native_handle();
        for (auto e : {set_transparent(fd), set_reuseaddr(fd)})
            if (!e.empty()) error = e;
        if (error.empty()) s->bind(udp::endpoint(asio::ip::address_v4(server.addr.value), server.port), ec);
    }
    if (ec) error = fmt::format("reply socket {}: {}", server.str(), ec.message());
    if (!error.empty()) return nullptr;
    replies_[server] = s;
    return s;
}

void UdpProxy::handle(const Endpoint& client, const Endpoint& server, const char* data, std::size_t n) {
    Key key{client, server};
    auto it = flows_.find(key);
    if (it == flows_.end()) {
        FlowInfo info;
        info.id = rt_.next_id();
        info.proto = policy::Proto::udp;
        info.client = client;
        info.server = server;
        info.state = rt_.state();
        auto refuse = [&](std::string_view reason) { rt_.refused(info, reason); };
        auto m = info.state->index.match(client.addr, server.addr, policy::Proto::udp, server.port);
        if (!m) return refuse("no allow matches");
        info.match = *m;
        std::size_t same = 0;
        for (auto& [k, f] : flows_)
            if (f->info.match.modality == m->modality) ++same;
        if (same >= max_flows_per_modality) return refuse("too many UDP flows for the modality");
        auto f = std::make_shared<Flow>(io_);
        f->owner = this;
        f->info = std::move(info);
        std::string err;
        f->reply = reply_socket(server, err);
        error_code ec;
        if (f->reply) {
            f->upstream.open(udp::v4(), ec);
            if (!ec && !set_transparent(f->upstream.native_handle()).empty()) ec = error_code(errno, boost::system::system_category());
            if (!ec) f->upstream.bind(udp::endpoint(asio::ip::address_v4(client.addr.value), 0), ec);
            if (!ec) f->upstream.connect(udp::endpoint(asio::ip::address_v4(server.addr.value), server.port), ec);
            if (ec) err = "upstream socket: " + ec.message();
        }
        if (!err.empty()) {
            rt_.upstream_failed(f->info, err);
            return;
        }
        rt_.opened(f->info);
        rt_.add(f);
        it = flows_.emplace(key, f).first;
        receive(f);
    }
    auto& f = it->second;
    f->last = std::chrono::steady_clock::now();
    f->up += n;
    error_code ec;
    f->upstream.send(asio::buffer(data, n), 0, ec);  // a dropped datagram is UDP's normal loss
}

void UdpProxy::receive(const std::shared_ptr<Flow>& f) {
    std::weak_ptr<Flow> w = f;
    f->upstream.async_receive(asio::buffer(f->buf), [this, w](const error_code& ec, std::size_t n) {
        auto flow = w.lock();
        if (!flow || ec) return;
        flow->last = std::chrono::steady_clock::now();
        flow->down += n;
        error_code ignored;
        flow->reply->send_to(asio::buffer(flow->buf.data(), n),
                             udp::endpoint(asio::ip::address_v4(flow->info.client.addr.value), flow->info.client.port), 0,
                             ignored);
        receive(flow);
    });
}

void UdpProxy::end(const Key& k, FlowEnd how, std::string_view reason) {
    auto it = flows_.find(k);
    if (it == flows_.end()) return;
    auto f = it->second;
    flows_.erase(it);
    error_code ignored;
    f->upstream.close(ignored);
    rt_.closed(f->info, {f->up, f->down}, how, reason);
}

void UdpProxy::sweep() {
    auto now = std::chrono::steady_clock::now();
    std::vector<Key> idle;
    for (auto& [k, f] : flows_)
        if (now - f->last > idle_timeout) idle.push_back(k);
    for (auto& k : idle) end(k, FlowEnd::idle_timeout, "idle timeout");
    sweeper_.expires_after(std::chrono::seconds(5));
    sweeper_.async_wait([this](const error_code& ec) {
        if (!ec) sweep();
    });
}

}  // namespace modgate::proxy
