#include "engine/disk_workers.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace atlas {

DiskWorkers::DiskWorkers(std::size_t threads) : queues_(std::max<std::size_t>(1, threads)) {
  for (std::size_t i = 0; i < queues_.size(); ++i) threads_.emplace_back([this, i] { Run(i); });
}

DiskWorkers::~DiskWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void DiskWorkers::Submit(std::size_t worker, std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queues_[worker % queues_.size()].tasks.push_back(std::move(task));
    ++pending_;
  }
  work_cv_.notify_all();
}

void DiskWorkers::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return pending_ == 0; });
}

void DiskWorkers::Run(std::size_t index) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !queues_[index].tasks.empty(); });
    if (queues_[index].tasks.empty()) return;  // stopping and drained
    std::function<void()> task = std::move(queues_[index].tasks.front());
    queues_[index].tasks.pop_front();
    lock.unlock();
    task();
    lock.lock();
    if (--pending_ == 0) done_cv_.notify_all();
  }
}

int CurrentThreadNice() {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  return errno == 0 ? nice : 0;  // -1 is a valid nice value: errno tells
}

int LowerPriorityThan(int nice) { return std::min(19, nice + 10); }

void SetCurrentThreadNice(int nice) {
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice);
}

}  // namespace atlas
