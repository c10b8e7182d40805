// Plain relay sessions, with one open and one close event per connection.
#include "gateway/proxy/relay.hpp"

#include "gateway/proxy/upstream.hpp"

namespace modgate::proxy {

namespace {
constexpr std::size_t buffer_size = 64 * 1024;
}

Relay::Relay(asio::io_context& io, tcp::socket client, FlowInfo flow, Runtime& rt, RelayOptions opt,
             std::vector<char> preface)
    : io_(io), client_(std::move(client)), upstream_(io), flow_(std::move(flow)), rt_(rt), opt_(opt), idle_(io),
      preface_(std::move(preface)) {
    buf_[0].resize(buffer_size);
    buf_[1].resize(buffer_size);
}

void Relay::start() {
    set_nodelay(client_.native_handle());
    auto self = shared_from_this();
    connect_upstream(io_, flow_, opt_.connect_timeout,
                     [self](const error_code& ec, tcp::socket up) { self->on_connected(ec, std::move(up)); });
}

void Relay::on_connected(const error_code& ec, tcp::socket up) {
    if (done_) return;
    if (ec) {
        rt_.upstream_failed(flow_, ec.message());
        done_ = true;
        // Mirror the failure to the client as a refusal rather than an open-then-close.
        reset_close(client_.release());
        rt_.closed(flow_, {bytes_[0], bytes_[1]}, FlowEnd::upstream_failed, ec.message());
        return;
    }
    upstream_ = std::move(up);
    arm_idle();
    if (preface_.empty()) {
        pump(0);
        pump(1);
        return;
    }
    bytes_[0] += preface_.size();
    auto self = shared_from_this();
    asio::async_write(upstream_, asio::buffer(preface_), [self](const error_code& wec, std::size_t) {
        if (self->done_) return;
        if (wec) return self->finish(FlowEnd::server_error, "server error");
        self->preface_.clear();
        self->pump(0);
        self->pump(1);
    });
}

// dir 0: client -> upstream, dir 1: upstream -> client.
void Relay::pump(int dir) {
    auto& from = dir == 0 ? client_ : upstream_;
    set_quickack(from.native_handle());
    auto self = shared_from_this();
    from.async_read_some(asio::buffer(buf_[dir]), [self, dir](const error_code& ec, std::size_t n) {
        if (self->done_) return;
        auto& to = dir == 0 ? self->upstream_ : self->client_;
        if (ec) {
            if (ec == asio::error::eof) {
                self->eof_[dir] = true;
                error_code ignored;
                to.shutdown(tcp::socket::shutdown_send, ignored);
                if (self->eof_[0] && self->eof_[1]) self->finish(FlowEnd::closed, "closed");
                return;
            }
            if (dir == 0) self->finish(FlowEnd::client_error, "client error");
            else self->finish(FlowEnd::server_error, "server error");
            return;
        }
        self->bytes_[dir] += n;
        self->arm_idle();
        asio::async_write(to, asio::buffer(self->buf_[dir].data(), n), [self, dir](const error_code& wec, std::size_t) {
            if (self->done_) return;
            if (wec) {
                if (dir == 0) self->finish(FlowEnd::server_error, "server error");
                else self->finish(FlowEnd::client_error, "client error");
                return;
            }
            self->pump(dir);
        });
    });
}

void Relay::arm_idle() {
    idle_.expires_after(opt_.idle_timeout);
    auto self = weak_from_this();
    idle_.async_wait([self](const error_code& ec) {
        if (ec) return;
        if (auto s = self.lock()) s->finish(FlowEnd::idle_timeout, "idle timeout");
    });
}

void Relay::close(std::string_view reason) { finish(FlowEnd::cut, reason); }

void Relay::finish(FlowEnd end, std::string_view reason) {
    if (done_) return;
    done_ = true;
    error_code ignored;
    idle_.cancel();
    client_.close(ignored);
    upstream_.close(ignored);
    rt_.closed(flow_, {bytes_[0], bytes_[1]}, end, reason);
}

}  // namespace modgate::proxy
