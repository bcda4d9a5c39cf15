// A set of coroutines started together on one executor and awaited together.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <exception>

namespace oscrig::controller {

/// Starts coroutines with spawn() and waits for all of them with wait(). The group must stay
/// alive until wait() returned, because each finishing task updates it. Single-threaded: use
/// it from the executor's thread only.
class task_group {
public:
    explicit task_group(boost::asio::any_io_executor executor);
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    /// Starts `task` at once; it runs concurrently with the caller on the same executor.
    void spawn(boost::asio::awaitable<void> task);

    /// Completes when every spawned task finished. Rethrows the first exception a task threw,
    /// after all tasks finished.
    boost::asio::awaitable<void> wait();

    std::size_t pending() const { return pending_; }

private:
    boost::asio::any_io_executor executor_;
    boost::asio::steady_timer done_;
    std::size_t pending_ = 0;
    std::exception_ptr first_error_;
};

}  // namespace oscrig::controller
