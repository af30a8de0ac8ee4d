// Fibers: stacks and the context switch (CUDA-EMULATION.md §1.2).
//
// The switch is 14 instructions of x86-64 assembly: push the six callee-saved registers, swap
// stack pointers, pop, return. ucontext's swapcontext costs ~10x more (a sigprocmask system call
// per switch). Floating-point control state (mxcsr, x87 CW) is not switched: kernels never change
// it. Every switch is announced to ASan (__sanitizer_start/finish_switch_fiber) and TSan
// (__tsan_switch_to_fiber without synchronisation) in those builds.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "internal.h"

#if defined(CUDA_EMU_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(CUDA_EMU_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

#if !defined(__x86_64__)
#error "cuda/emu: the fiber switch is written for x86-64"
#endif

extern "C" {
void cuda_emu_switch(void** save_sp, void* new_sp);
void cuda_emu_trampoline();
__attribute__((visibility("hidden"), used)) void cuda_emu_fiber_entry(cuda_emu::rt::Fiber* f);
}

// cuda_emu_switch(save_sp, new_sp): saves the callee-saved registers on the current stack, stores
// the stack pointer to *save_sp, loads new_sp and restores the registers saved there.
// cuda_emu_trampoline: the first "return address" of a fresh fiber; rbx holds the Fiber*. Its
// CFI marks the end of the stack for unwinders and debuggers.
asm(R"(
    .text
    .p2align 4
    .globl cuda_emu_switch
    .hidden cuda_emu_switch
    .type cuda_emu_switch, @function
cuda_emu_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size cuda_emu_switch, .-cuda_emu_switch

    .p2align 4
    .globl cuda_emu_trampoline
    .hidden cuda_emu_trampoline
    .type cuda_emu_trampoline, @function
cuda_emu_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %rbx, %rdi
    call cuda_emu_fiber_entry
    ud2
    .cfi_endproc
    .size cuda_emu_trampoline, .-cuda_emu_trampoline
)");

namespace cuda_emu::rt {
namespace {

size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

// 64 KiB per fiber, 256 KiB under ASan (redzones inflate frames), 128 KiB under TSan; the
// environment variable CUDA_EMU_STACK_KB overrides. Only touched pages cost memory.
size_t stack_bytes() {
  static const size_t bytes = [] {
#if defined(CUDA_EMU_ASAN)
    size_t kb = 256;
#elif defined(CUDA_EMU_TSAN)
    size_t kb = 128;
#else
    size_t kb = 64;
#endif
    if (const char* e = std::getenv("CUDA_EMU_STACK_KB")) {
      const long v = std::strtol(e, nullptr, 10);
      if (v >= 16) kb = static_cast<size_t>(v);
    }
    return (kb * 1024 + page_size() - 1) / page_size() * page_size();
  }();
  return bytes;
}

// A PROT_NONE guard below every stack, large enough that a big frame does not jump over it.
constexpr size_t kGuardBytes = 64 * 1024;
#if defined(CUDA_EMU_ASAN)
constexpr size_t kTopUnpoison = 8 * 1024;  // covers the frames of the entry and fiber_main
#endif

#if !defined(CUDA_EMU_ASAN) && !defined(CUDA_EMU_TSAN)
// SIGSEGV in a guard area: a fiber stack overflow. Says so, then lets the default action run.
struct sigaction g_previous_segv;
void on_segv(int sig, siginfo_t* info, void* ctx) {
  const Fiber* f = sched().current;
  const char* addr = static_cast<const char*>(info->si_addr);
  if (f && f->stack && addr < f->stack && addr >= f->stack - kGuardBytes) {
    static const char msg[] = "cuda-emu: fiber stack overflow (a CUDA thread used more stack than the "
                              "emulator gives it): raise CUDA_EMU_STACK_KB\n";
    (void)!write(2, msg, sizeof msg - 1);
    signal(SIGSEGV, SIG_DFL);
    return;  // the access faults again, now with the default action
  }
  if (g_previous_segv.sa_flags & SA_SIGINFO) {
    if (g_previous_segv.sa_sigaction) return g_previous_segv.sa_sigaction(sig, info, ctx);
  } else if (g_previous_segv.sa_handler != SIG_DFL && g_previous_segv.sa_handler != SIG_IGN) {
    return g_previous_segv.sa_handler(sig);
  }
  signal(SIGSEGV, SIG_DFL);
}
void install_overflow_handler() {
  static thread_local bool alt_stack = false;
  if (!alt_stack) {  // the handler must not run on the overflowed stack
    alt_stack = true;
    static thread_local char* mem = nullptr;
    const size_t size = 64 * 1024;
    mem = static_cast<char*>(std::malloc(size));
    stack_t ss{};
    ss.ss_sp = mem;
    ss.ss_size = size;
    sigaltstack(&ss, nullptr);
  }
  static bool installed = false;
  if (installed) return;
  installed = true;
  struct sigaction sa {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_previous_segv);
}
#endif

}  // namespace

void ensure_stacks(std::vector<Fiber>& fibers, size_t n) {
#if !defined(CUDA_EMU_ASAN) && !defined(CUDA_EMU_TSAN)
  install_overflow_handler();
#endif
  if (fibers.size() < n) fibers.resize(n);
  for (size_t i = 0; i < n; ++i) {
    Fiber& f = fibers[i];
    if (f.stack) continue;
    const size_t bytes = stack_bytes();
    void* mem = mmap(nullptr, bytes + kGuardBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    if (mem == MAP_FAILED) {
      std::fprintf(stderr, "cuda-emu: cannot map a fiber stack of %zu bytes\n", bytes);
      std::abort();
    }
    mprotect(mem, kGuardBytes, PROT_NONE);
    f.stack = static_cast<char*>(mem) + kGuardBytes;
    f.stack_size = bytes;
#if defined(CUDA_EMU_TSAN)
    f.tsan = __tsan_create_fiber(0);
#endif
  }
}

void clean_stacks(std::vector<Fiber>& fibers) {
#if defined(CUDA_EMU_ASAN)
  for (Fiber& f : fibers)
    if (f.stack) ASAN_UNPOISON_MEMORY_REGION(f.stack, f.stack_size);
#else
  (void)fibers;
#endif
}

void capture_main(Fiber* main) {
#if defined(CUDA_EMU_ASAN)
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    main->stack = static_cast<char*>(addr);
    main->stack_size = size;
    pthread_attr_destroy(&attr);
  }
#endif
#if defined(CUDA_EMU_TSAN)
  main->tsan = __tsan_get_current_fiber();
#endif
  (void)main;
}

void prepare(Fiber* f) {
  // Stack on first resume: r15 r14 r13 r12 rbx rbp, then the return address (the trampoline).
  // After `ret`, rsp = top - 16: 16-byte aligned at the trampoline's call, as the ABI wants.
  uintptr_t top = reinterpret_cast<uintptr_t>(f->stack + f->stack_size) & ~uintptr_t{15};
  void** sp = reinterpret_cast<void**>(top - 72);
  for (int i = 0; i < 6; ++i) sp[i] = nullptr;
  sp[4] = f;  // rbx
  sp[6] = reinterpret_cast<void*>(&cuda_emu_trampoline);
  f->sp = sp;
#if defined(CUDA_EMU_ASAN)
  // fiber_main never returns, so its frame's redzones stay poisoned on a reused stack.
  ASAN_UNPOISON_MEMORY_REGION(f->stack + f->stack_size - kTopUnpoison, kTopUnpoison);
#endif
}

void transfer(Fiber* from, Fiber* to, bool from_exits) {
  ++g_stats.switches;
  Sched& s = sched();
  s.current = to;
  if (to != &s.main) threadIdx = to->tid;
#if defined(CUDA_EMU_ASAN)
  __sanitizer_start_switch_fiber(from_exits ? nullptr : &from->asan_fake, to->stack, to->stack_size);
#else
  (void)from_exits;
#endif
#if defined(CUDA_EMU_TSAN)
  __tsan_switch_to_fiber(to->tsan, __tsan_switch_to_fiber_no_sync);
#endif
  cuda_emu_switch(&from->sp, to->sp);
#if defined(CUDA_EMU_ASAN)
  __sanitizer_finish_switch_fiber(from->asan_fake, nullptr, nullptr);
#endif
}

}  // namespace cuda_emu::rt

extern "C" void cuda_emu_fiber_entry(cuda_emu::rt::Fiber* f) {
#if defined(CUDA_EMU_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  cuda_emu::rt::fiber_main(f);
}
