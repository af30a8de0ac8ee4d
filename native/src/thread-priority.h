// Compute threads yield to the host's threads, so the Node event loop (and the rest of the host
// service) stays responsive while the engine uses every core.
#pragma once
#if defined(__linux__)
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace xlam {

enum class ComputePriority {
  kIdle,    // SCHED_IDLE: compute only runs when no other thread of the machine wants the CPU
  kLow,     // nice +5
  kNormal,  // unchanged
};

// Applies the priority to the calling thread (Linux: per thread). Best effort.
inline void set_compute_priority(ComputePriority p) {
#if defined(__linux__)
  if (p == ComputePriority::kNormal) return;
  if (p == ComputePriority::kIdle) {
    sched_param sp{};
    if (sched_setscheduler(0, SCHED_IDLE, &sp) == 0) return;  // 0: this thread
  }
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) setpriority(PRIO_PROCESS, tid, current + 5);
#else
  (void)p;
#endif
}

}  // namespace xlam
