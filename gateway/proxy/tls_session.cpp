// TLS sessions: the ClientHello phase, then a Relay that sends the hello upstream first.
#include "gateway/proxy/tls_session.hpp"

#include "gateway/events/events.hpp"
#include "gateway/proxy/relay.hpp"

namespace modgate::proxy {

using events::Event;
using events::Key;
using events::Kind;
using events::Level;

namespace {
constexpr std::uint8_t alert_unrecognized_name = 112;
constexpr std::uint8_t alert_handshake_failure = 40;
constexpr std::uint8_t alert_decode_error = 50;
constexpr std::chrono::seconds hello_timeout{10};
}  // namespace

TlsSession::TlsSession(asio::io_context& io, tcp::socket client, FlowInfo flow, Runtime& rt)
    : io_(io), client_(std::move(client)), flow_(std::move(flow)), rt_(rt), timer_(io), buf_(4096) {}

void TlsSession::start() {
    set_nodelay(client_.native_handle());
    timer_.expires_after(hello_timeout);
    auto self = weak_from_this();
    timer_.async_wait([self](const error_code& ec) {
        if (auto s = self.lock(); s && !ec) s->refuse("no complete ClientHello in time", "", alert_handshake_failure);
    });
    read();
}

void TlsSession::read() {
    auto self = shared_from_this();
    client_.async_read_some(asio::buffer(buf_), [self](const error_code& ec, std::size_t n) {
        if (self->done_) return;
        if (ec) {
            self->done_ = true;
            self->timer_.cancel();
            self->rt_.closed(self->flow_, {self->reader_.buffered().size(), 0}, FlowEnd::closed, "closed before ClientHello");
            return;
        }
        const auto& r = self->reader_.feed(std::span<const std::uint8_t>(self->buf_.data(), n));
        using vendors::SniStatus;
        switch (r.status) {
            case SniStatus::need_more: return self->read();
            case SniStatus::not_tls: return self->refuse("not TLS", "", alert_decode_error);
            case SniStatus::malformed: return self->refuse("malformed ClientHello: " + r.error, "", alert_decode_error);
            case SniStatus::no_sni: return self->refuse("ClientHello without a server name", "", alert_unrecognized_name);
            case SniStatus::ok: break;
        }
        const auto& patterns = self->flow_.match.allow->tls_sni;
        if (!vendors::sni_allowed(r.host, patterns))
            return self->refuse("server name not allowed", r.host, alert_unrecognized_name);
        self->done_ = true;
        self->timer_.cancel();
        Event(Kind::tls_sni_allowed).kv(Key::id, self->flow_.id).kv(Key::allow, self->flow_.match.allow->name)
            .kv(Key::sni, r.host);
        auto hello = self->reader_.buffered();
        RelayOptions opt;
        opt.connect_timeout = self->flow_.state->policy.gateway.dicom.connect;
        auto relay = std::make_shared<Relay>(self->io_, std::move(self->client_), self->flow_, self->rt_, opt,
                                             std::vector<char>(hello.begin(), hello.end()));
        self->rt_.add(relay);
        relay->start();
    });
}

// A fatal TLS alert (the client sees why), then the connection closes; nothing went upstream.
void TlsSession::refuse(std::string_view reason, const std::string& sni, std::uint8_t alert) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    Event e(Kind::tls_refused, Level::warning);
    e.kv(Key::id, flow_.id).kv(Key::allow, flow_.match.allow->name).kv(Key::src, flow_.client.str())
        .kv(Key::dst, flow_.server.str()).kv(Key::reason, reason);
    if (!sni.empty()) e.kv(Key::sni, sni);
    rt_.closed(flow_, {reader_.buffered().size(), 0}, FlowEnd::refused, reason);
    auto record = std::make_shared<std::array<std::uint8_t, 7>>(std::array<std::uint8_t, 7>{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, alert});
    auto self = shared_from_this();
    asio::async_write(client_, asio::buffer(*record), [self, record](const error_code&, std::size_t) {
        error_code ignored;
        self->client_.shutdown(tcp::socket::shutdown_both, ignored);
        self->client_.close(ignored);
    });
}

void TlsSession::close(std::string_view reason) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    error_code ignored;
    client_.close(ignored);
    rt_.closed(flow_, {reader_.buffered().size(), 0}, FlowEnd::cut, reason);
}

}  // namespace modgate::proxy
