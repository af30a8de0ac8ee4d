#!/usr/bin/env bash
# The CUDA backend in CI (issue 7; README "CUDA backend"):
#   1. nvcc: libxlam-cuda.so, every kernel for every listed architecture; ptxas's register,
#      shared-memory and spill report for each kernel is kept in build-cuda-release/ptxas.log and
#      summarised here (the same build tree `npm run prebuild` packs from);
#   2. the emulated op tests (every CUDA op against the CPU reference op, three schedules) and the
#      emulator's own tests at -O2;
#   3. the same under AddressSanitizer + UBSan;
#   4. the same under the ThreadSanitizer race mode; the deliberately broken kernels must be
#      caught (cuda/emu/README.md lists which detector catches which).
# Any failure stops the run non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${CUDA_CI_BUILD:-$PWD/build-cuda-ci}
LOG=$(mktemp)
JOBS=${CUDA_CI_JOBS:-2}

# Runs a test binary; on failure prints the end of its output and stops. A run must execute at
# least one case ("N passed, 0 failed" with N > 0).
run() {
  if ! "$@" >"$LOG" 2>&1 || ! grep -qE "^[1-9][0-9]* passed, 0 failed$" "$LOG"; then
    tail -80 "$LOG"
    echo "cuda-ci: FAILED: $*"
    exit 1
  fi
  echo "cuda-ci: $(tail -1 "$LOG"): $*"
}

# A deliberately broken kernel (cuda/emu/tests/test-probes.cu, run only with CUDA_EMU_PROBE=1)
# must draw the sanitizer's report: proof the sanitizer sees inside emulated kernels.
expect_report() {
  local dir=$1 probe=$2 report=$3 where=${4:-}
  CUDA_EMU_PROBE=1 ASAN_OPTIONS=detect_leaks=0 TSAN_OPTIONS=exitcode=0 "$dir/xlam-cuda-emu-tests" "$probe" >"$LOG" 2>&1 || true
  if ! grep -q "$report" "$LOG" || { [ -n "$where" ] && ! grep -q "$where" "$LOG"; }; then
    tail -40 "$LOG"
    echo "cuda-ci: FAILED: the broken kernel $probe did not draw \"$report\""
    exit 1
  fi
  echo "cuda-ci: $probe caught: $report"
}

echo "cuda-ci: nvcc build of libxlam-cuda.so"
R=$PWD/build-cuda-release
cmake -S cuda -B "$R" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXLAM_CUDA_NVCC=ON -DXLAM_CUDA_EMU=OFF \
  -DXLAM_CUDA_OUT="$R/artifacts" >/dev/null
ninja -C "$R" -j"$JOBS" clean >/dev/null
ninja -C "$R" -j"$JOBS" xlam-cuda xlam-cuda-op-tests-gpu xlam-cuda-bench >"$R/ptxas.log" 2>&1 || { tail -60 "$R/ptxas.log"; exit 1; }
node scripts/ptxas-report.mjs "$R/ptxas.log"

for mode in release asan tsan; do
  case $mode in
    release) flags=(-DCMAKE_BUILD_TYPE=Release) ;;
    asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DXLAM_CUDA_EMU_SANITIZE=address,undefined) ;;
    tsan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DXLAM_CUDA_EMU_SANITIZE=thread) ;;
  esac
  echo "cuda-ci: emulated build ($mode)"
  cmake -S cuda -B "$B-$mode" -G Ninja "${flags[@]}" -DXLAM_CUDA_OUT="$B-$mode/out" >/dev/null
  ninja -C "$B-$mode" -j"$JOBS" xlam-cuda-op-tests xlam-cuda-emu-tests xlam-cuda-bench-emulated >/dev/null
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export TSAN_OPTIONS=halt_on_error=1
  run "$B-$mode/xlam-cuda-op-tests"
  if [ "$mode" = release ]; then
    run "$B-$mode/xlam-cuda-op-tests" "full:"
    # npm run bench:gpu's bench, at tiny shapes under the emulator: it runs (its times mean nothing).
    "$B-$mode/xlam-cuda-bench-emulated" --smoke >"$LOG" 2>&1 || { cat "$LOG"; echo "cuda-ci: FAILED: bench smoke"; exit 1; }
    echo "cuda-ci: bench smoke: $(grep -c '"op"' "$LOG") ops measured"
  fi
  run "$B-$mode/xlam-cuda-emu-tests"
  case $mode in
    asan)
      expect_report "$B-$mode" probe-asan-global-oob 'ERROR: AddressSanitizer: heap-buffer-overflow'
      expect_report "$B-$mode" probe-asan-smem-oob 'ERROR: AddressSanitizer: heap-buffer-overflow'
      expect_report "$B-$mode" probe-asan-static-smem-oob "runtime error: index 32 out of bounds for type 'float \[32\]'"
      ;;
    tsan)
      expect_report "$B-$mode" probe-tsan-missing-barrier 'WARNING: ThreadSanitizer: data race' 'missing_barrier'
      expect_report "$B-$mode" probe-tsan-shared-counter 'WARNING: ThreadSanitizer: data race' 'shared_counter'
      ;;
  esac
done
echo "cuda-ci: passed"
