// Small building blocks of the parallel readers: page-aligned buffers and a
// re-armable latch.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <mutex>

namespace atlas {

// A page-aligned heap buffer (ISA-L and the hash like aligned data).
struct AlignedBuffer {
  explicit AlignedBuffer(std::size_t n)
      : data(static_cast<std::byte*>(std::aligned_alloc(4096, std::max<std::size_t>(4096, (n + 4095) / 4096 * 4096)))) {}
  ~AlignedBuffer() { std::free(data); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  std::byte* data;
};

// Counts outstanding tasks (a latch that can be re-armed).
class WaitGroup {
 public:
  void Add(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ += n;
  }
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--pending_ == 0) cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int pending_ = 0;  // REQUIRES: mu_ held
};

}  // namespace atlas
