// Sinks: each owns a bounded queue and a writer thread, so a slow destination (a full pipe, a
// stalled disk, later a remote SIEM) never blocks the event loop. A full queue drops the record
// and counts it; once the queue has drained, the sink emits one `events_dropped` summary.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gateway/events/events.hpp"

namespace modgate::events {

class Sink {
public:
    // `name` identifies the sink in counters and summaries ("stderr", "file:/var/log/x").
    Sink(std::string name, Level min_level, std::size_t capacity);
    virtual ~Sink();
    Sink(const Sink&) = delete;
    Sink& operator=(const Sink&) = delete;

    // Never blocks: queues the record or drops it and counts.
    void offer(const std::shared_ptr<const Record>& r);
    // Blocks until the queue is empty and the last record written, or the deadline; false then.
    bool flush(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
    // Stops the writer after it has drained the queue (waits for it: not for a stalled sink).
    void stop();

    const std::string& name() const { return name_; }
    std::uint64_t dropped() const;
    std::uint64_t written() const;

protected:
    // Called on the writer thread, one record at a time.
    virtual void write(const Record& r) = 0;
    void start();  // derived constructors call this once they are ready

private:
    void run();

    std::string name_;
    Level min_level_;
    std::size_t capacity_;
    mutable std::mutex mu_;
    std::condition_variable cv_, idle_cv_;
    std::deque<std::shared_ptr<const Record>> queue_;
    bool stopping_ = false, busy_ = false;
    std::uint64_t dropped_ = 0, dropped_unreported_ = 0, written_ = 0;
    std::thread thread_;
};

// logfmt lines to a file descriptor (stderr) or to a file opened for appending.
class LogfmtSink : public Sink {
public:
    static std::shared_ptr<LogfmtSink> to_stderr(Level min_level);
    // Empty pointer with `error` set when the file cannot be opened.
    static std::shared_ptr<LogfmtSink> to_file(const std::string& path, Level min_level, std::string& error);
    ~LogfmtSink() override;

private:
    LogfmtSink(std::string name, int fd, bool owned, Level min_level);
    void write(const Record& r) override;
    int fd_;
    bool owned_;
};

inline constexpr std::size_t default_sink_capacity = 4096;

}  // namespace modgate::events
