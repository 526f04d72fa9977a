#include "engine/stripe_pipeline.h"

#include <algorithm>

#include "atlas/hash.h"
#include "engine/read_layout.h"

namespace atlas {
namespace {

std::size_t DiskThreads(const Config& config, std::size_t ndata) {
  return config.io_threads > 0 ? std::min<std::size_t>(config.io_threads, ndata) : ndata;
}

}  // namespace

StripePipeline::StripePipeline(const RunContext& ctx, Manifest* m, const ArrayView& array, std::size_t levels,
                               std::uint64_t stripe_bytes, bool lower_priority)
    : ctx_(ctx),
      ndata_(array.data.size()),
      levels_(levels),
      whole_stripes_(ReadsWholeStripes(*ctx.config, array)),
      stripe_workers_(whole_stripes_ ? WholeStripeWorkers(*ctx.config) : 0),
      disk_threads_(DiskThreads(*ctx.config, array.data.size())),
      // A busy consumer must get a core whenever it has work.
      worker_nice_(whole_stripes_ && lower_priority ? std::optional<int>(LowerPriorityThan(CurrentThreadNice()))
                                                    : std::nullopt),
      // Whole stripes: every worker needs a stripe of each window at least.
      per_window_(std::max<std::uint64_t>(std::max<std::size_t>(1, stripe_workers_),
                                          kWindowBytes / kWindows / std::max<std::uint64_t>(1, stripe_bytes))),
      workers_(whole_stripes_ ? stripe_workers_ : disk_threads_ + levels),
      readers_(ctx, m, array, whole_stripes_ ? stripe_workers_ : 1) {}

void StripePipeline::Dispatch(const Stages& stages, std::size_t w) {
  Slot& slot = slots_[w];
  if (whole_stripes_) {
    slot.next_stripe = 0;
    slot.done.Add(static_cast<int>(stripe_workers_));
    for (std::size_t t = 0; t < stripe_workers_; ++t) {
      workers_.Submit(t, [this, &stages, &slot, w, t] {
        if (worker_nice_) SetCurrentThreadNice(*worker_nice_);
        for (std::size_t i = slot.next_stripe++; i < slot.count; i = slot.next_stripe++) stages.stripe(w, i, t);
        ClearUpperVectorState();
        slot.done.Done();
      });
    }
    return;
  }
  slot.done.Add(static_cast<int>(ndata_));
  for (std::size_t di = 0; di < ndata_; ++di) {
    workers_.Submit(di % disk_threads_, [&stages, &slot, w, di] {
      stages.disk(w, di);
      ClearUpperVectorState();
      slot.done.Done();
    });
  }
  if (!stages.level) return;
  for (std::size_t l = 0; l < levels_; ++l) {
    if (stages.level_wanted && !stages.level_wanted(w, l)) continue;
    slot.done.Add(1);
    workers_.Submit(disk_threads_ + l, [&stages, &slot, w, l] {
      stages.level(w, l);
      slot.done.Done();
    });
  }
}

Status StripePipeline::Start(const Stages& stages, std::size_t w, bool* more) {
  Slot& slot = slots_[w];
  slot.after.Wait();  // the window's buffers may still be in use
  slot.count = 0;
  ATLAS_ASSIGN_OR_RETURN(slot.count, stages.fill(w));
  if (slot.count == 0) {
    *more = false;
    return Status::Ok();
  }
  Dispatch(stages, w);
  return Status::Ok();
}

Status StripePipeline::Run(const Stages& stages) {
  bool more = true;
  Status status;
  // All windows but the one in the consumer's hands are being read.
  for (std::size_t i = 0; status.ok() && more && i + 1 < kWindows; ++i) status = Start(stages, i, &more);
  std::size_t cur = 0;
  while (status.ok() && slots_[cur].count > 0) {
    Slot& slot = slots_[cur];
    slot.done.Wait();
    const bool stop = ctx_.stop.stop_requested();
    // Queue the reads of the free window before working on this one.
    if (!stop && more) status = Start(stages, (cur + kWindows - 1) % kWindows, &more);
    if (status.ok()) status = stages.consume(cur, slot.count, stop);
    ClearUpperVectorState();
    if (status.ok() && stop) status = Status::Cancelled("interrupted");
    slot.count = 0;
    cur = (cur + 1) % kWindows;
  }
  workers_.Wait();  // no task may still use a window's buffers
  for (Slot& slot : slots_) slot.count = 0;
  return status;
}

void StripePipeline::SubmitToLevels(std::size_t w, std::function<void(std::size_t l)> task) {
  Slot& slot = slots_[w];
  slot.after.Add(static_cast<int>(levels_));
  auto shared = std::make_shared<std::function<void(std::size_t)>>(std::move(task));
  for (std::size_t l = 0; l < levels_; ++l) {
    workers_.Submit(disk_threads_ + l, [shared, &slot, l] {
      (*shared)(l);
      slot.after.Done();
    });
  }
}

void StripePipeline::WaitLevels() {
  for (Slot& slot : slots_) slot.after.Wait();
}

}  // namespace atlas
