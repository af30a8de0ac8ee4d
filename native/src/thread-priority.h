// Compute threads run at a lower priority than the host's threads, so the Node event loop (and
// the rest of the host service) stays responsive while the engine uses every core.
#pragma once
#if defined(__linux__)
#include <cerrno>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace xlam {

// Raises the calling thread's nice value by `delta` (Linux: per thread). Best effort.
inline void lower_thread_priority(int delta = 5) {
#if defined(__linux__)
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) setpriority(PRIO_PROCESS, tid, current + delta);
#else
  (void)delta;
#endif
}

}  // namespace xlam
