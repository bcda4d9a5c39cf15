// Per-camera request queue: the one way to reach a camera's connection, so that exactly one
// request is in flight per camera at any time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <deque>
#include <memory>

namespace oscrig::controller {

/// First-in, first-out lock for coroutines on one executor. acquire() completes when every
/// earlier holder released its ticket. Not thread-safe: every call runs on the executor's
/// thread.
class request_queue {
public:
    /// Holds the queue until destroyed or released. Move-only.
    class ticket {
    public:
        ticket() = default;
        ticket(ticket&& other) noexcept;
        ticket& operator=(ticket&& other) noexcept;
        ~ticket();

        void release();
        bool holds() const { return queue_ != nullptr; }

    private:
        friend class request_queue;
        explicit ticket(request_queue* queue) : queue_(queue) {}

        request_queue* queue_ = nullptr;
    };

    explicit request_queue(boost::asio::any_io_executor executor);
    request_queue(const request_queue&) = delete;
    request_queue& operator=(const request_queue&) = delete;

    /// Waits for the queue. The queue must outlive every ticket it handed out.
    boost::asio::awaitable<ticket> acquire();

    bool busy() const { return busy_; }
    std::size_t waiting() const { return waiters_.size(); }

private:
    struct waiter {
        explicit waiter(boost::asio::any_io_executor executor) : timer(executor) {}
        boost::asio::steady_timer timer;
        bool granted = false;
    };

    void hand_over();

    boost::asio::any_io_executor executor_;
    bool busy_ = false;
    std::deque<std::shared_ptr<waiter>> waiters_;
};

}  // namespace oscrig::controller
