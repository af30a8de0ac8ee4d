// The scheduler: schedules, block setup, picking the next fiber, barriers, thread exit, deadlock
// and failure handling (CUDA-EMULATION.md §1.3).
//
// Warp-greedy by default: after a thread parks, the next runnable lane of the same warp runs, so a
// warp runs as far as it can before another starts (the skew between warps exposes a missing
// __syncthreads). "+rr" interleaves threads round-robin instead. After a barrier releases,
// execution restarts from the first thread in schedule order.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <tuple>

#include "internal.h"

#if defined(CUDA_EMU_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

uint3 threadIdx{0, 0, 0};
uint3 blockIdx{0, 0, 0};
dim3 blockDim{1, 1, 1};
dim3 gridDim{1, 1, 1};

namespace cuda_emu::rt {

Sched g_sched;
Stats g_stats{};

#if defined(CUDA_EMU_TSAN)
char g_bar_sync[2];
char g_launch_sync;
char g_exit_sync;
#endif

namespace {

// --- schedules --------------------------------------------------------------------------------------
bool parse_schedule(const char* spec, Schedule* out) {
  if (!spec) return false;
  std::string s(spec);
  Schedule r;
  const size_t plus = s.find('+');
  if (plus != std::string::npos) {
    if (s.substr(plus) != "+rr") return false;
    r.round_robin = true;
    s = s.substr(0, plus);
  }
  if (s == "forward") {
    r.order = Schedule::kForward;
  } else if (s == "reverse") {
    r.order = Schedule::kReverse;
  } else if (s.rfind("random:", 0) == 0 && s.size() > 7) {
    char* end = nullptr;
    r.seed = std::strtoull(s.c_str() + 7, &end, 10);
    if (!end || *end) return false;
    r.order = Schedule::kRandom;
  } else {
    return false;
  }
  *out = r;
  return true;
}

struct ScheduleInit {
  ScheduleInit() {
    if (const char* e = std::getenv("CUDA_EMU_SCHEDULE")) {
      if (!set_schedule(e)) std::fprintf(stderr, "cuda-emu: CUDA_EMU_SCHEDULE=%s not understood, using forward\n", e);
    }
  }
};

uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

template <class T>
void shuffle(std::vector<T>& v, uint64_t& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[splitmix(rng) % i]);
}

// --- picking the next fiber -------------------------------------------------------------------------
Fiber* first_runnable(Warp& w) {
  Sched& s = sched();
  for (unsigned p = w.start; p < w.start + w.len; ++p) {
    Fiber* x = &s.fibers[s.order[p]];
    if (x->state == State::kRunnable) return x;
  }
  return nullptr;
}

// A warp with nothing runnable: its __activemask waiters (if any) resolve and run.
Fiber* from_warp(Warp& w) {
  if (w.n_runnable) return first_runnable(w);
  if (w.n_activemask) {
    resolve_activemask(w);
    return first_runnable(w);
  }
  return nullptr;
}

Fiber* pick_greedy(Fiber* f, bool restart) {
  Sched& s = sched();
  const unsigned nw = static_cast<unsigned>(s.warp_order.size());
  unsigned k0 = 0, count = nw;
  if (f && !restart) {
    Warp& w = s.warps[f->warp];
    if (w.n_runnable) {  // the lanes after f in its warp, then f itself
      const unsigned end = w.start + w.len;
      for (unsigned p = f->pos + 1; p < end; ++p) {
        Fiber* x = &s.fibers[s.order[p]];
        if (x->state == State::kRunnable) return x;
      }
      for (unsigned p = w.start; p <= f->pos; ++p) {
        Fiber* x = &s.fibers[s.order[p]];
        if (x->state == State::kRunnable) return x;
      }
    } else if (Fiber* x = from_warp(w)) {
      return x;
    }
    k0 = f->wpos + 1;
    count = nw - 1;
  }
  for (unsigned i = 0; i < count; ++i) {
    unsigned k = k0 + i;
    if (k >= nw) k -= nw;
    if (Fiber* x = from_warp(s.warps[s.warp_order[k]])) return x;
  }
  return nullptr;
}

Fiber* pick_round_robin(Fiber* f, bool restart) {
  Sched& s = sched();
  const unsigned n = s.nthreads;
  const unsigned start = (f && !restart) ? f->pos + 1 : 0;
  for (unsigned i = 0; i < n; ++i) {
    unsigned p = start + i;
    if (p >= n) p -= n;
    Fiber* x = &s.fibers[s.order[p]];
    if (x->state == State::kRunnable) return x;
    if (x->state == State::kActiveMask && s.warps[x->warp].n_runnable == 0) {
      resolve_activemask(s.warps[x->warp]);
      return x;
    }
  }
  return nullptr;
}

Fiber* pick(Fiber* f, bool restart) {
  return sched().schedule.round_robin ? pick_round_robin(f, restart) : pick_greedy(f, restart);
}

// In a failed block: the next fiber that has run and not exited (it resumes only to unwind).
// Fibers that never started are retired without running.
Fiber* unwind_next(Fiber* self) {
  Sched& s = sched();
  for (unsigned i = 0; i < s.nthreads; ++i) {
    Fiber* x = &s.fibers[i];
    if (x == self || x->state == State::kExited) continue;
    if (!x->started) {
      x->state = State::kExited;
      ++s.n_exited;
      continue;
    }
    return x;
  }
  return nullptr;
}



std::string deadlock_message() {
  Sched& s = sched();
  // Blocked threads grouped by where they wait: count and the first thread of each site.
  std::map<std::tuple<std::string, std::string, int>, std::pair<unsigned, const Fiber*>> sites;
  unsigned blocked = 0;
  for (unsigned i = 0; i < s.nthreads; ++i) {
    const Fiber& x = s.fibers[s.order[i]];
    if (x.state == State::kExited || x.state == State::kRunnable) continue;
    ++blocked;
    auto& e = sites[{x.what ? x.what : "?", x.file ? x.file : "?", x.line}];
    if (e.first++ == 0) e.second = &x;
  }
  std::string m = "deadlock in kernel " + s.kernel_name + " block (" + std::to_string(blockIdx.x) + "," +
                  std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) + "): no thread can continue, " +
                  std::to_string(blocked) + " thread(s) blocked:";
  for (const auto& [key, e] : sites) {
    const Fiber* x = e.second;
    m += "\n  " + std::to_string(e.first) + " thread(s), first (" + std::to_string(x->tid.x) + "," +
         std::to_string(x->tid.y) + "," + std::to_string(x->tid.z) + "), in " + std::get<0>(key) + " at " +
         site(x->file, x->line);
  }
  if (s.n_exited) m += "\n  (" + std::to_string(s.n_exited) + " thread(s) exited)";
  // Why: warp collectives that wait for lanes parked elsewhere.
  for (unsigned wi = 0; wi < s.warps.size(); ++wi) {
    const Warp& w = s.warps[wi];
    for (unsigned gi = 0; gi < w.ngroups; ++gi) {
      const Group& g = w.groups[gi];
      const unsigned missing = g.mask & w.present & ~w.exited & ~g.arrived;
      if (!missing) continue;
      const Fiber& x = s.fibers[w.fiber[__builtin_ctz(missing)]];
      char mask[64];
      std::snprintf(mask, sizeof mask, "0x%08x (mask 0x%08x)", g.arrived, g.mask);
      m += "\n  warp " + std::to_string(wi) + ": lanes " + mask + " wait in " + g.proto->name + " at " +
           site(g.proto->file, g.proto->line) + " for lane " + std::to_string(x.lane) + ", which waits in " +
           (x.what ? x.what : "?") + " at " + site(x.file, x.line);
    }
  }
  return m;
}


// A thread finished (returned or unwound): it counts as arrived at barriers from now on.
void retire(Fiber* f) {
  Sched& s = sched();
  Warp& w = s.warps[f->warp];
  if (f->state == State::kRunnable) --w.n_runnable;
  f->state = State::kExited;
  ++s.n_exited;
  w.exited |= 1u << f->lane;
  s.spins = 0;
  if (s.failed) return;
  try {
    warp_lane_exited(w, f);
  } catch (const Unwind&) {  // a collective completed by this exit failed; the block unwinds
    return;
  }
  if (s.bar_waiting > 0 && s.bar_waiting + s.n_exited == s.nthreads) release_barrier();
}

}  // namespace

void release_barrier() {
  Sched& s = sched();
  const int slot = static_cast<int>(s.bar_gen & 1);
  s.bar_result[slot][0] = s.bar_acc[0];
  s.bar_result[slot][1] = s.bar_acc[1];
  s.bar_result[slot][2] = s.bar_acc[2];
  ++s.bar_gen;
  s.bar_waiting = 0;
  s.spins = 0;
  ++g_stats.barriers;
  for (unsigned i = 0; i < s.nthreads; ++i) {
    Fiber& x = s.fibers[i];
    if (x.state == State::kBarrier) wake(&x);
  }
}

std::string format(const char* fmt, va_list ap) {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  return buf;
}

void record_failure(const std::string& msg) {
  Sched& s = sched();
  if (!s.failed) {
    s.failed = true;
    set_error(cudaErrorLaunchFailure, msg);
    if (abort_on_error()) {
      std::fprintf(stderr, "cuda-emu: %s\n", msg.c_str());
      std::abort();
    }
  }
}

std::string site(const char* file, int line) {
  return std::string(file ? file : "?") + ":" + std::to_string(line);
}

std::string who(const Fiber* f) {
  Sched& s = sched();
  std::string m = "kernel " + s.kernel_name + " block (" + std::to_string(blockIdx.x) + "," +
                  std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) + ")";
  if (f && f != &s.main)
    m += " thread (" + std::to_string(f->tid.x) + "," + std::to_string(f->tid.y) + "," + std::to_string(f->tid.z) +
         ")";
  return m;
}

void fail_here(const std::string& msg) {
  record_failure(msg);
  throw Unwind{};
}

void wake(Fiber* f) {
  f->state = State::kRunnable;
  ++sched().warps[f->warp].n_runnable;
}

void run_next(Fiber* f, bool restart) {
  Sched& s = sched();
  Fiber* next = pick(f, restart);
  if (next == f) return;
  transfer(f, next ? next : &s.main, false);
  if (s.failed && !std::uncaught_exceptions()) throw Unwind{};
}

// The body of every fiber: the kernel for its CUDA thread, then retirement.
void fiber_main(Fiber* f) {
  Sched& s = sched();
  f->started = true;
#if defined(CUDA_EMU_TSAN)
  __tsan_acquire(&g_launch_sync);
#endif
  try {
    s.launch->run(s.launch->holder);
  } catch (const Unwind&) {
  } catch (const std::exception& e) {
    record_failure(who(f) + ": C++ exception escaped the kernel: " + e.what());
  } catch (...) {
    record_failure(who(f) + ": C++ exception escaped the kernel");
  }
#if defined(CUDA_EMU_TSAN)
  __tsan_release(&g_exit_sync);
  // An exited thread counts as arrived at every later barrier: its writes are visible after them.
  __tsan_release(&g_bar_sync[0]);
  __tsan_release(&g_bar_sync[1]);
#endif
  retire(f);
  Fiber* next = s.failed ? unwind_next(f) : pick(f, false);
  transfer(f, next ? next : &s.main, true);
  std::abort();  // an exited fiber is never resumed
}

// Sets up the fibers and schedule order of block `b` (blockIdx already set) and runs it to the end.
void run_block(uint64_t block_linear) {
  Sched& s = sched();
  const unsigned n = s.nthreads;
  const unsigned nw = (n + 31) / 32;
  s.warps.resize(nw);
  s.warp_order.resize(nw);
  uint64_t rng = s.schedule.seed * 0x2545f4914f6cdd1dull ^ (s.launch_ordinal << 32) ^ block_linear;
  for (unsigned w = 0; w < nw; ++w) s.warp_order[w] = w;
  if (s.schedule.order == Schedule::kReverse) std::reverse(s.warp_order.begin(), s.warp_order.end());
  if (s.schedule.order == Schedule::kRandom) shuffle(s.warp_order, rng);
  s.order.resize(n);
  unsigned p = 0;
  std::vector<unsigned> lanes;
  for (unsigned k = 0; k < nw; ++k) {
    const unsigned w = s.warp_order[k];
    Warp& W = s.warps[w];
    const unsigned len = std::min(32u, n - w * 32);
    lanes.resize(len);
    for (unsigned l = 0; l < len; ++l) lanes[l] = l;
    if (s.schedule.order == Schedule::kReverse) std::reverse(lanes.begin(), lanes.end());
    if (s.schedule.order == Schedule::kRandom) shuffle(lanes, rng);
    W.start = p;
    W.len = len;
    W.present = len == 32 ? ~0u : (1u << len) - 1;
    W.exited = 0;
    W.n_runnable = len;
    W.n_activemask = 0;
    W.ngroups = 0;
    W.next_group_id = 0;
    for (unsigned l = 0; l < 32; ++l) W.fiber[l] = l < len ? static_cast<int>(w * 32 + l) : -1;
    for (unsigned l : lanes) {
      const unsigned i = w * 32 + l;
      Fiber& f = s.fibers[i];
      f.linear = i;
      f.warp = w;
      f.lane = l;
      f.pos = p;
      f.wpos = k;
      f.tid = uint3{i % blockDim.x, (i / blockDim.x) % blockDim.y, i / (blockDim.x * blockDim.y)};
      f.state = State::kRunnable;
      f.started = false;
      f.op = nullptr;
      f.group = -1;
      f.what = nullptr;
      f.file = nullptr;
      f.line = 0;
      prepare(&f);
      s.order[p++] = i;
    }
  }
  s.n_exited = 0;
  s.bar_waiting = 0;
  s.bar_gen = 0;
  s.spins = 0;
  s.failed = false;

  Fiber* first = pick(nullptr, true);
  transfer(&s.main, first, false);
  if (!s.failed && s.n_exited < n) record_failure(deadlock_message());
  if (s.failed) {
    if (Fiber* u = unwind_next(nullptr)) transfer(&s.main, u, false);
    clean_stacks(s.fibers);  // stale ASan poison of abandoned frames (CUDA-EMULATION.md §5.1)
  }
  s.current = nullptr;
}

}  // namespace cuda_emu::rt

namespace cuda_emu {

using namespace rt;

bool set_schedule(const char* spec) {
  Schedule r;
  if (!parse_schedule(spec, &r)) return false;
  Sched& s = sched();
  s.schedule = r;
  s.schedule_name = spec;
  s.launch_ordinal = 0;
  return true;
}

const char* schedule_name() { return sched().schedule_name.c_str(); }

Stats stats() { return g_stats; }
void reset_stats() { g_stats = Stats{}; }

}  // namespace cuda_emu

static cuda_emu::rt::ScheduleInit g_schedule_init;
