// Bounded sink queues with one writer thread each; the logfmt sinks for stderr and files.
#include "gateway/events/sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "gateway/events/bus.hpp"
#include "gateway/events/format.hpp"

namespace modgate::events {

Sink::Sink(std::string name, Level min_level, std::size_t capacity)
    : name_(std::move(name)), min_level_(min_level), capacity_(capacity) {}

Sink::~Sink() { stop(); }

void Sink::start() { thread_ = std::thread([this] { run(); }); }

void Sink::offer(const std::shared_ptr<const Record>& r) {
    if (r->level < min_level_) return;
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (queue_.size() >= capacity_) {
        ++dropped_;
        ++dropped_unreported_;
        return;
    }
    queue_.push_back(r);
    cv_.notify_one();
}

void Sink::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) break;
        auto r = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
        lock.unlock();
        write(*r);
        lock.lock();
        ++written_;
        busy_ = false;
        if (queue_.empty() && dropped_unreported_ && !stopping_) {
            // Caught up: say how many went missing, through the bus so every sink, the ring and
            // the counters see it.
            auto n = std::exchange(dropped_unreported_, 0);
            lock.unlock();
            Event(Kind::events_dropped).kv(Key::sink, name_).kv(Key::dropped, n);
            lock.lock();
        }
        if (queue_.empty()) idle_cv_.notify_all();
    }
    idle_cv_.notify_all();
}

bool Sink::flush(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    auto done = [this] { return (queue_.empty() && !busy_) || !thread_.joinable(); };
    if (deadline == std::chrono::steady_clock::time_point::max()) {
        idle_cv_.wait(lock, done);
        return true;
    }
    return idle_cv_.wait_until(lock, deadline, done);
}

void Sink::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
        cv_.notify_all();
    }
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::uint64_t Sink::dropped() const {
    std::lock_guard lock(mu_);
    return dropped_;
}

std::uint64_t Sink::written() const {
    std::lock_guard lock(mu_);
    return written_;
}

LogfmtSink::LogfmtSink(std::string name, int fd, bool owned, Level min_level)
    : Sink(std::move(name), min_level, default_sink_capacity), fd_(fd), owned_(owned) {
    start();
}

LogfmtSink::~LogfmtSink() {
    stop();
    if (owned_) ::close(fd_);
}

std::shared_ptr<LogfmtSink> LogfmtSink::to_stderr(Level min_level) {
    return std::shared_ptr<LogfmtSink>(new LogfmtSink("stderr", STDERR_FILENO, false, min_level));
}

std::shared_ptr<LogfmtSink> LogfmtSink::to_file(const std::string& path, Level min_level, std::string& error) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        error = fmt::format("cannot open event file {}: {}", path, std::strerror(errno));
        return nullptr;
    }
    return std::shared_ptr<LogfmtSink>(new LogfmtSink("file:" + path, fd, true, min_level));
}

void LogfmtSink::write(const Record& r) {
    auto line = logfmt_line(r);
    line += '\n';
    std::size_t off = 0;
    while (off < line.size()) {
        auto n = ::write(fd_, line.data() + off, line.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a destination that refuses writes loses the line, not the daemon
        off += static_cast<std::size_t>(n);
    }
}

}  // namespace modgate::events
