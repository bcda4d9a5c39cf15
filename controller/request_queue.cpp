#include "controller/request_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace oscrig::controller {

request_queue::ticket::ticket(ticket&& other) noexcept : queue_(other.queue_) {
    other.queue_ = nullptr;
}

request_queue::ticket& request_queue::ticket::operator=(ticket&& other) noexcept {
    if (this != &other) {
        release();
        queue_ = other.queue_;
        other.queue_ = nullptr;
    }
    return *this;
}

request_queue::ticket::~ticket() {
    release();
}

void request_queue::ticket::release() {
    if (queue_ != nullptr) {
        auto* queue = queue_;
        queue_ = nullptr;
        queue->hand_over();
    }
}

request_queue::request_queue(boost::asio::any_io_executor executor)
    : executor_(std::move(executor)) {}

boost::asio::awaitable<request_queue::ticket> request_queue::acquire() {
    if (!busy_) {
        busy_ = true;
        co_return ticket{this};
    }
    auto entry = std::make_shared<waiter>(executor_);
    entry->timer.expires_at(boost::asio::steady_timer::time_point::max());
    waiters_.push_back(entry);
    // hand_over() wakes the first waiter by cancelling its timer. The queue stays busy in
    // between, so no later caller can take it first.
    while (!entry->granted) {
        co_await entry->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return ticket{this};
}

void request_queue::hand_over() {
    if (waiters_.empty()) {
        busy_ = false;
        return;
    }
    auto next = std::move(waiters_.front());
    waiters_.pop_front();
    next->granted = true;
    next->timer.cancel();
}

}  // namespace oscrig::controller
