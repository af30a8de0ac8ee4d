// Warp collectives: shuffles, votes, __syncwarp, match, redux, __activemask and the custom
// collectives behind the PTX twins and WMMA (CUDA-EMULATION.md §1.3).
//
// The lanes of a mask park in one group; the last to arrive computes every lane's result. Checks
// that hardware does not make: the caller must be in its own mask; every non-exited lane named
// in the mask must reach a collective of the same kind with the same mask and width
// ("mismatched warp collective"); a lane that reads a lane not taking part (exited, outside the
// mask, absent in a partial warp) gets poison (all bits set: NaN for floats) where CUDA says
// "undefined".
#include <cstring>
#include <exception>
#include <string>

#include "internal.h"

#if defined(CUDA_EMU_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace cuda_emu::rt {
namespace {

using detail::Coll;
using detail::CollOp;

#if defined(CUDA_EMU_TSAN)
// __syncwarp and custom collectives order memory between their lanes: every lane releases on
// arrival and acquires after completion, on an object unique to the group (a ring per warp).
// Shuffles and votes do not order memory (CUDA does not promise it).
char g_warp_sync[1024][64];
bool orders_memory(Coll k) { return k == Coll::kSyncWarp || k == Coll::kCustom; }
void* warp_sync_object(unsigned warp, uint32_t group_id) { return &g_warp_sync[warp % 1024][group_id % 64]; }
#endif

std::string hex(unsigned m) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", m);
  return b;
}

std::string lane_desc(const Fiber* f) {
  return "lane " + std::to_string(f->lane) + " (thread (" + std::to_string(f->tid.x) + "," +
         std::to_string(f->tid.y) + "," + std::to_string(f->tid.z) + "))";
}

bool is_shuffle(Coll k) { return k <= Coll::kShflXor; }

// PTX shfl.sync: the source lane of `lane`, or -1 if it is the lane itself (pval false).
int shuffle_source(Coll kind, unsigned lane, int b, int width) {
  const unsigned bval = static_cast<unsigned>(b) & 31u;
  const unsigned seg = (32u - static_cast<unsigned>(width)) & 31u;  // c[12:8]: bits above the segment
  const unsigned cval = kind == Coll::kShflUp ? 0u : 31u;            // c[4:0]
  const unsigned max_lane = (lane & seg) | (cval & ~seg);
  const unsigned min_lane = lane & seg;
  int j = 0;
  bool pval = false;
  switch (kind) {
    case Coll::kShflUp:
      j = static_cast<int>(lane) - static_cast<int>(bval);
      pval = j >= static_cast<int>(max_lane);
      break;
    case Coll::kShflDown:
      j = static_cast<int>(lane + bval);
      pval = j <= static_cast<int>(max_lane);
      break;
    case Coll::kShflXor:
      j = static_cast<int>(lane ^ bval);
      pval = j <= static_cast<int>(max_lane);
      break;
    default:  // kShflIdx
      j = static_cast<int>(min_lane | (bval & ~seg));
      pval = j <= static_cast<int>(max_lane);
      break;
  }
  return pval ? j : -1;
}

// Word loops rather than memcmp/memcpy calls: TSan intercepts those even in this uninstrumented
// file and would see one fiber reading another's operands.
bool same_value(const CollOp* a, const CollOp* b) {
  for (unsigned i = 0; i < a->nwords; ++i)
    if (a->in[i] != b->in[i]) return false;
  return true;
}

// Computes the results of a complete group: `lanes` arrived, each with its CollOp.
void compute(Warp& w, Group& g) {
  Sched& s = sched();
  CollOp* ops[32] = {};
  for (unsigned l = 0; l < 32; ++l)
    if (g.arrived >> l & 1u) ops[l] = s.fibers[w.fiber[l]].op;
  const unsigned in = g.arrived;
  const Coll kind = g.proto->kind;
  switch (kind) {
    case Coll::kShflIdx:
    case Coll::kShflUp:
    case Coll::kShflDown:
    case Coll::kShflXor:
      for (unsigned l = 0; l < 32; ++l) {
        if (!ops[l]) continue;
        const int j = shuffle_source(kind, l, ops[l]->b, ops[l]->width);
        const CollOp* src = j < 0 ? ops[l] : ops[j];
        for (unsigned i = 0; i < 4; ++i) ops[l]->out[i] = src ? src->in[i] : 0xffffffffu;  // poison: no source
      }
      return;
    case Coll::kCustom:
      g.proto->custom(ops, in);
      return;
    default:
      break;
  }
  uint32_t r = 0;
  switch (kind) {
    case Coll::kBallot:
      for (unsigned l = 0; l < 32; ++l)
        if (ops[l] && ops[l]->in[0]) r |= 1u << l;
      break;
    case Coll::kAny:
      for (unsigned l = 0; l < 32; ++l)
        if (ops[l] && ops[l]->in[0]) r = 1;
      break;
    case Coll::kAll:
    case Coll::kUni: {
      unsigned ones = 0, n = 0;
      for (unsigned l = 0; l < 32; ++l)
        if (ops[l]) ++n, ones += ops[l]->in[0] != 0;
      r = kind == Coll::kAll ? ones == n : (ones == n || ones == 0);
      break;
    }
    case Coll::kMatchAny:
      for (unsigned l = 0; l < 32; ++l) {
        if (!ops[l]) continue;
        uint32_t m = 0;
        for (unsigned k = 0; k < 32; ++k)
          if (ops[k] && same_value(ops[k], ops[l])) m |= 1u << k;
        ops[l]->out[0] = m;
      }
      return;
    case Coll::kMatchAll: {
      const CollOp* first = nullptr;
      bool all = true;
      for (unsigned l = 0; l < 32; ++l) {
        if (!ops[l]) continue;
        if (!first) first = ops[l];
        all = all && same_value(first, ops[l]);
      }
      r = all ? in : 0;
      break;
    }
    case Coll::kReduceAdd:
      for (unsigned l = 0; l < 32; ++l)
        if (ops[l]) r += ops[l]->in[0];
      break;
    case Coll::kReduceMin:
    case Coll::kReduceMax: {
      bool first = true;
      for (unsigned l = 0; l < 32; ++l) {
        if (!ops[l]) continue;
        const uint32_t v = ops[l]->in[0];
        bool better;
        if (g.proto->is_signed)
          better = kind == Coll::kReduceMin ? static_cast<int32_t>(v) < static_cast<int32_t>(r)
                                            : static_cast<int32_t>(v) > static_cast<int32_t>(r);
        else
          better = kind == Coll::kReduceMin ? v < r : v > r;
        if (first || better) r = v;
        first = false;
      }
      break;
    }
    case Coll::kReduceAnd:
      r = ~0u;
      for (unsigned l = 0; l < 32; ++l)
        if (ops[l]) r &= ops[l]->in[0];
      break;
    case Coll::kReduceOr:
      for (unsigned l = 0; l < 32; ++l)
        if (ops[l]) r |= ops[l]->in[0];
      break;
    case Coll::kReduceXor:
      for (unsigned l = 0; l < 32; ++l)
        if (ops[l]) r ^= ops[l]->in[0];
      break;
    default:  // kSyncWarp: no value
      break;
  }
  for (unsigned l = 0; l < 32; ++l)
    if (ops[l]) ops[l]->out[0] = r;
}

// If every non-exited lane named by the group has arrived: computes the results, wakes the
// parked lanes (all but `self`, which is running) and frees the group.
void try_complete(Warp& w, unsigned gi, Fiber* self) {
  Group& g = w.groups[gi];
  const unsigned required = g.mask & w.present & ~w.exited;
  if ((g.arrived & required) != required) return;
  Sched& s = sched();
  const unsigned arrived = g.arrived;
  ++g_stats.collectives;
  s.spins = 0;
  // Free the slot first (a failing custom body must not leave it behind), keeping a copy.
  Group done = g;
  w.groups[gi] = w.groups[--w.ngroups];
  // Lanes of the moved group (if any) point at its new slot.
  if (gi < w.ngroups) {
    const Group& moved = w.groups[gi];
    for (unsigned l = 0; l < 32; ++l)
      if (moved.arrived >> l & 1u) s.fibers[w.fiber[l]].group = static_cast<int>(gi);
  }
#if defined(CUDA_EMU_TSAN)
  // The completing lane reads (and for custom bodies writes) every lane's operands: it acquires
  // their arrival releases first and releases its own work for the lanes it wakes.
  void* sync = orders_memory(done.proto->kind)
                   ? warp_sync_object(static_cast<unsigned>(&w - s.warps.data()), done.id)
                   : nullptr;
  if (sync) __tsan_acquire(sync);
  compute(w, done);
  if (sync) __tsan_release(sync);
#else
  compute(w, done);
#endif
  for (unsigned l = 0; l < 32; ++l) {
    if (!(arrived >> l & 1u)) continue;
    Fiber* x = &s.fibers[w.fiber[l]];
    x->group = -1;
    if (x != self && x->state == State::kWarp) wake(x);
  }
}

// Reports, out of line: the hot path keeps a small frame (ASan poisons every frame's redzones).
[[noreturn]] __attribute__((noinline, cold)) void mask_without_caller(Fiber* f, const CollOp& op) {
  fail_here(who(f) + " at " + site(op.file, op.line) + ": " + op.name + " with mask " + hex(op.mask) +
            " that does not include the calling lane " + std::to_string(f->lane));
}

[[noreturn]] __attribute__((noinline, cold)) void bad_width(Fiber* f, const CollOp& op) {
  fail_here(who(f) + " at " + site(op.file, op.line) + ": " + op.name + " with width " + std::to_string(op.width) +
            " (must be a power of 2 from 1 to 32)");
}

[[noreturn]] __attribute__((noinline, cold)) void mismatched(Fiber* f, const CollOp& op, const Warp& w,
                                                             const Group& g) {
  Sched& s = sched();
  const CollOp* p = g.proto;
  const Fiber* first = &s.fibers[w.fiber[__builtin_ctz(g.arrived)]];
  fail_here("mismatched warp collective in " + who(f) + ": " + lane_desc(f) + " calls " + op.name + " (mask " +
            hex(op.mask) + (is_shuffle(op.kind) ? ", width " + std::to_string(op.width) : std::string()) + ") at " +
            site(op.file, op.line) + " but " + lane_desc(first) + " waits in " + p->name + " (mask " + hex(g.mask) +
            (is_shuffle(p->kind) ? ", width " + std::to_string(p->width) : std::string()) + ") at " +
            site(p->file, p->line));
}

}  // namespace

void warp_lane_exited(Warp& w, Fiber* f) {
  (void)f;
  for (unsigned i = 0; i < w.ngroups;) {
    const unsigned before = w.ngroups;
    try_complete(w, i, nullptr);
    if (w.ngroups == before) ++i;  // not completed; else slot i now holds another group
  }
}

void resolve_activemask(Warp& w) {
  Sched& s = sched();
  // Lanes parked at the same call site see each other; different sites are different branches.
  for (unsigned p = w.start; p < w.start + w.len; ++p) {
    Fiber* x = &s.fibers[s.order[p]];
    if (x->state != State::kActiveMask) continue;
    unsigned m = 0;
    for (unsigned q = w.start; q < w.start + w.len; ++q) {
      const Fiber* y = &s.fibers[s.order[q]];
      if (y->state == State::kActiveMask && y->line == x->line && std::strcmp(y->file, x->file) == 0)
        m |= 1u << y->lane;
    }
    x->am_result = m;
  }
  for (unsigned p = w.start; p < w.start + w.len; ++p) {
    Fiber* x = &s.fibers[s.order[p]];
    if (x->state == State::kActiveMask) wake(x);
  }
  w.n_activemask = 0;
  ++g_stats.collectives;
}

}  // namespace cuda_emu::rt

namespace cuda_emu::detail {

using namespace rt;

void collective(CollOp& op) {
  Sched& s = sched();
  Fiber* f = s.current;
  if (!f || f == &s.main || !s.launch) {
    std::fprintf(stderr, "cuda-emu: %s called outside a kernel\n", op.name);
    std::abort();
  }
  if (s.failed) {
    if (!std::uncaught_exceptions()) throw Unwind{};
    return;
  }
  Warp& w = s.warps[f->warp];
  const unsigned bit = 1u << f->lane;
  if (!(op.mask & bit)) mask_without_caller(f, op);
  if (is_shuffle(op.kind) && (op.width < 1 || op.width > 32 || (op.width & (op.width - 1)) != 0)) bad_width(f, op);
  // Join the group whose mask overlaps ours, or open one.
  int gi = -1;
  for (unsigned i = 0; i < w.ngroups; ++i) {
    const Group& g = w.groups[i];
    if (!(g.mask & op.mask)) continue;
    const CollOp* p = g.proto;
    if (g.mask != op.mask || p->kind != op.kind || p->custom != op.custom || p->nwords != op.nwords ||
        (is_shuffle(op.kind) && p->width != op.width)) {
      mismatched(f, op, w, g);
    }
    gi = static_cast<int>(i);
    break;
  }
  if (gi < 0) {
    gi = static_cast<int>(w.ngroups++);
    Group& g = w.groups[gi];
    g.mask = op.mask;
    g.arrived = 0;
    g.proto = &op;
    g.id = w.next_group_id++;
  }
  Group& g = w.groups[gi];
  g.arrived |= bit;
  f->op = &op;
  f->group = gi;
#if defined(CUDA_EMU_TSAN)
  void* sync = orders_memory(op.kind) ? warp_sync_object(f->warp, g.id) : nullptr;
  if (sync) __tsan_release(sync);
#endif
  const unsigned before = w.ngroups;
  try_complete(w, static_cast<unsigned>(gi), f);
  if (w.ngroups == before) {  // not complete: park until the last lane arrives
    f->state = State::kWarp;
    f->what = op.name;
    f->file = op.file;
    f->line = op.line;
    --w.n_runnable;
    run_next(f, false);
  }
#if defined(CUDA_EMU_TSAN)
  if (sync) __tsan_acquire(sync);
#endif
}

unsigned activemask(const char* file, int line) {
  Sched& s = sched();
  Fiber* f = s.current;
  if (!f || f == &s.main || !s.launch) {
    std::fprintf(stderr, "cuda-emu: __activemask called outside a kernel\n");
    std::abort();
  }
  if (s.failed) {
    if (!std::uncaught_exceptions()) throw Unwind{};
    return 0;
  }
  Warp& w = s.warps[f->warp];
  f->state = State::kActiveMask;
  f->what = "__activemask";
  f->file = file;
  f->line = line;
  --w.n_runnable;
  ++w.n_activemask;
  run_next(f, false);
  return f->am_result;
}

}  // namespace cuda_emu::detail
