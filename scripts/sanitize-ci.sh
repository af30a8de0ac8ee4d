#!/usr/bin/env bash
# The native test suite under sanitizers (shared/RELIABILITY.md 7.1 Z): every test case in an
# AddressSanitizer + UBSan build (leak checking on), and the threaded ones (scheduler/KV
# invariants, thread pool, the engine fed from 8 threads) in a ThreadSanitizer build. Any report
# fails the run. Builds go to $SANITIZE_BUILD-{asan,tsan}.
set -euo pipefail
cd "$(dirname "$0")/.."
# Inside the checkout (git-ignored): a build tree in /tmp would belong to whichever checkout made it first.
BUILD=${SANITIZE_BUILD:-$PWD/build-sanitize}
export XLAM_FIXTURES="$PWD/test/fixtures/models"
LOG=$(mktemp)

# Runs the test binary; on a failure or a report prints the end of its output and stops. A run
# must execute at least one case ("N passed, 0 failed" with N > 0).
run() {
  if ! "$@" >"$LOG" 2>&1 || ! grep -qE "^[1-9][0-9]* passed, 0 failed$" "$LOG"; then
    tail -80 "$LOG"
    echo "sanitize: FAILED: $*"
    exit 1
  fi
  tail -1 "$LOG"
}

cmake -S . -B "$BUILD-asan" -G Ninja -DXLAM_TESTS=ON -DXLAM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
ninja -C "$BUILD-asan" xlam-native-tests >/dev/null
echo "sanitize: ASan + UBSan, every native test case"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run "$BUILD-asan/xlam-native-tests"

cmake -S . -B "$BUILD-tsan" -G Ninja -DXLAM_TESTS=ON -DXLAM_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD-tsan" xlam-native-tests >/dev/null
for filter in "scheduler invariants" "thread pool" "engine: requests from 8 threads"; do
  echo "sanitize: TSan, test cases matching \"$filter\""
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run "$BUILD-tsan/xlam-native-tests" "$filter"
done
