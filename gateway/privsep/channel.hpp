// One end of the parent-proxy socketpair on an event loop. Reads and writes are done here, not
// by asio (asio only says when the socket is ready), so wait_for() can block for an answer
// without racing a pending operation. The outgoing queue is bounded: a message that does not
// fit is refused and the caller counts it.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/privsep/wire.hpp"
#include "gateway/proxy/asio.hpp"

namespace modgate::privsep {

class Channel : public std::enable_shared_from_this<Channel> {
public:
    using OnMessage = std::function<void(Message)>;
    using OnClosed = std::function<void(const std::string& why)>;

    // Takes ownership of `fd`. `reads_from`: the side whose messages this end accepts.
    Channel(asio::io_context& io, int fd, From reads_from, std::size_t max_queued);
    ~Channel();
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    void start(OnMessage on_message, OnClosed on_closed);
    // Queues `m`; false (nothing queued) when the queue would exceed its bound or the channel
    // is closed.
    bool send(const Message& m);
    // Blocks the loop up to `limit` for the message `pick` selects (every other message goes to
    // the handler meanwhile); sends what is queued first. Nothing on timeout or close.
    std::optional<Message> wait_for(const std::function<bool(const Message&)>& pick, std::chrono::milliseconds limit);
    void close(const std::string& why);
    bool open() const { return !closed_; }
    std::size_t queued() const { return queued_; }

private:
    void arm_read();
    void arm_write();
    // Reads what is there; false when the channel closed.
    bool read_some();
    // Writes what the socket takes; false when the channel closed.
    bool write_some();
    void deliver(const std::function<bool(const Message&)>* pick, std::optional<Message>* picked);

    asio::posix::stream_descriptor sd_;
    FrameReader reader_;
    std::size_t max_queued_;
    std::deque<std::vector<std::uint8_t>> out_;
    std::size_t head_sent_ = 0, queued_ = 0;
    bool reading_ = false, writing_ = false, closed_ = false;
    OnMessage on_message_;
    OnClosed on_closed_;
};

}  // namespace modgate::privsep
