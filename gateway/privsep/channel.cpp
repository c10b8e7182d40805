// The parent-proxy channel (see channel.hpp).
#include "gateway/privsep/channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace modgate::privsep {

Channel::Channel(asio::io_context& io, int fd, From reads_from, std::size_t max_queued)
    : sd_(io, fd), reader_(reads_from), max_queued_(max_queued) {
    sd_.non_blocking(true);
}

Channel::~Channel() {
    error_code ec;
    sd_.close(ec);
}

void Channel::start(OnMessage on_message, OnClosed on_closed) {
    on_message_ = std::move(on_message);
    on_closed_ = std::move(on_closed);
    arm_read();
}

void Channel::close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    out_.clear();
    queued_ = 0;
    error_code ec;
    sd_.cancel(ec);
    ::shutdown(sd_.native_handle(), SHUT_RDWR);
    if (on_closed_) {
        auto cb = std::move(on_closed_);
        cb(why);
    }
}

bool Channel::send(const Message& m) {
    if (closed_) return false;
    auto bytes = encode(m);
    if (queued_ + bytes.size() > max_queued_) return false;
    queued_ += bytes.size();
    out_.push_back(std::move(bytes));
    if (!writing_ && write_some()) arm_write();
    return true;
}

void Channel::arm_read() {
    if (closed_ || reading_) return;
    reading_ = true;
    sd_.async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](const error_code& ec) {
        self->reading_ = false;
        if (ec || self->closed_) return;
        if (!self->read_some()) return;
        self->deliver(nullptr, nullptr);
        self->arm_read();
    });
}

void Channel::arm_write() {
    if (closed_ || writing_ || out_.empty()) return;
    writing_ = true;
    sd_.async_wait(asio::posix::stream_descriptor::wait_write, [self = shared_from_this()](const error_code& ec) {
        self->writing_ = false;
        if (ec || self->closed_) return;
        if (self->write_some()) self->arm_write();
    });
}

bool Channel::read_some() {
    std::uint8_t buf[64 * 1024];
    for (;;) {
        auto n = ::recv(sd_.native_handle(), buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            reader_.feed(std::span(buf, static_cast<std::size_t>(n)));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        if (n < 0 && errno == EINTR) continue;
        close(n == 0 ? "the other side closed the channel" : std::string("read: ") + std::strerror(errno));
        return false;
    }
}

bool Channel::write_some() {
    while (!out_.empty()) {
        auto& head = out_.front();
        auto n = ::send(sd_.native_handle(), head.data() + head_sent_, head.size() - head_sent_,
                        MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(std::string("write: ") + std::strerror(errno));
            return false;
        }
        head_sent_ += static_cast<std::size_t>(n);
        if (head_sent_ == head.size()) {
            queued_ -= head.size();
            out_.pop_front();
            head_sent_ = 0;
        }
    }
    return true;
}

// Hands complete messages to the handler; with `pick`, the first one it selects is kept back.
void Channel::deliver(const std::function<bool(const Message&)>* pick, std::optional<Message>* picked) {
    auto self = shared_from_this();  // a handler may drop the last other reference
    while (!closed_) {
        auto m = reader_.next();
        if (!m) break;
        if (pick && !*picked && (*pick)(*m)) {
            *picked = std::move(m);
            continue;
        }
        if (on_message_) on_message_(std::move(*m));
    }
    if (reader_.failed()) close("bad message: " + reader_.error());
}

std::optional<Message> Channel::wait_for(const std::function<bool(const Message&)>& pick,
                                         std::chrono::milliseconds limit) {
    auto self = shared_from_this();
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::optional<Message> picked;
    deliver(&pick, &picked);
    while (!picked && !closed_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{sd_.native_handle(), static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
        if ((p.revents & POLLOUT) && !write_some()) break;
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && !read_some()) break;
        deliver(&pick, &picked);
    }
    if (!closed_) arm_write();
    return picked;
}

}  // namespace modgate::privsep
