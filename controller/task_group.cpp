#include "controller/task_group.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace oscrig::controller {

task_group::task_group(boost::asio::any_io_executor executor)
    : executor_(executor), done_(executor) {}

void task_group::spawn(boost::asio::awaitable<void> task) {
    ++pending_;
    boost::asio::co_spawn(executor_, std::move(task), [this](std::exception_ptr error) {
        if (error && !first_error_) {
            first_error_ = error;
        }
        if (--pending_ == 0) {
            done_.cancel();
        }
    });
}

boost::asio::awaitable<void> task_group::wait() {
    while (pending_ > 0) {
        done_.expires_at(boost::asio::steady_timer::time_point::max());
        co_await done_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    if (first_error_) {
        auto error = std::exchange(first_error_, nullptr);
        std::rethrow_exception(error);
    }
}

}  // namespace oscrig::controller
