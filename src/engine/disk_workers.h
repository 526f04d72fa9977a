// A fixed set of worker threads, one per disk (or per `io_threads` group of
// disks), each with its own FIFO queue, so every disk is read by exactly one
// thread in position order while all disks are read at once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace atlas {

class DiskWorkers {
 public:
  explicit DiskWorkers(std::size_t threads);
  ~DiskWorkers();
  DiskWorkers(const DiskWorkers&) = delete;
  DiskWorkers& operator=(const DiskWorkers&) = delete;

  std::size_t size() const { return queues_.size(); }
  // Queues `task` on worker `worker % size()`.
  void Submit(std::size_t worker, std::function<void()> task);
  // Blocks until every task submitted so far has finished.
  void Wait();

 private:
  struct Queue {
    std::deque<std::function<void()>> tasks;  // REQUIRES: mu_ held
  };
  void Run(std::size_t index);

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::vector<Queue> queues_;     // REQUIRES: mu_ held
  std::size_t pending_ = 0;       // REQUIRES: mu_ held
  bool stopping_ = false;         // REQUIRES: mu_ held
  std::vector<std::thread> threads_;
};

// CPU priority of the calling thread (on Linux a nice value belongs to a
// thread, not the process). Lowering it needs no privilege; raising it back
// does, so a thread given a lower priority keeps it: set it only on threads
// that end with their DiskWorkers.
int CurrentThreadNice();
// A nice value 10 steps lower in priority than `nice` (at most 19): against
// a thread at `nice`, one at this gets about a tenth of a shared core.
int LowerPriorityThan(int nice);
// Best effort: a failure leaves the priority as it was.
void SetCurrentThreadNice(int nice);

}  // namespace atlas
