#!/usr/bin/env bash
# Runs every fuzz target on its committed corpus (test/fuzz/corpus/TARGET) for FUZZ_SECONDS
# (default 45) each: the libFuzzer targets of native/fuzz (built with clang, ASan + UBSan, in
# $FUZZ_BUILD) and the TypeScript targets of test/fuzz (test/fuzz/fuzzer.ts). New inputs go to a
# scratch directory, not to the corpus. Exits non-zero on the first crash, timeout (> 2 s),
# out-of-memory or sanitizer report; the input is left in $FUZZ_OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${FUZZ_SECONDS:-45}
# Inside the checkout (git-ignored): a build tree in /tmp would belong to whichever checkout made it first.
BUILD=${FUZZ_BUILD:-$PWD/build-fuzz}
OUT=${FUZZ_OUT:-/tmp/xlam-fuzz-out}
mkdir -p "$OUT"

cmake -S . -B "$BUILD" -G Ninja -DXLAM_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
native_targets=$(node -p "require('./sources.json').fuzz.map((f) => f.replace(/^.*\/fuzz-(.*)\.cc$/, '\$1')).join(' ')")
ninja -C "$BUILD" $(for t in $native_targets; do echo "fuzz-$t"; done) >/dev/null

for t in $native_targets; do
  mkdir -p "$OUT/$t-new"
  dict=()
  [ -f "native/fuzz/$t.dict" ] && dict=(-dict="native/fuzz/$t.dict")
  echo "fuzz: $t (libFuzzer, ${SECONDS_PER_TARGET} s)"
  "$BUILD/fuzz-$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=2 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
    -print_final_stats=1 "${dict[@]}" -artifact_prefix="$OUT/$t-" "$OUT/$t-new" "test/fuzz/corpus/$t" >"$OUT/$t.log" 2>&1 ||
    { tail -60 "$OUT/$t.log"; echo "fuzz: $t FAILED"; exit 1; }
  grep -E "^(stat::number_of_executed_units|#[0-9]+ *DONE)" "$OUT/$t.log" | tail -2
done

npx tsc -p tsconfig.fuzz.json
for t in $(node -e "import('./dist/test/fuzz/targets/index.js').then((m) => console.log(m.CI_TARGETS.join(' ')))"); do
  mkdir -p "$OUT/$t-new"
  echo "fuzz: $t (TypeScript, ${SECONDS_PER_TARGET} s)"
  node dist/test/fuzz/fuzzer.js "$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=2 -artifact_prefix="$OUT/$t-" \
    "$OUT/$t-new" "test/fuzz/corpus/$t" >"$OUT/$t.log" 2>&1 || { tail -60 "$OUT/$t.log"; echo "fuzz: $t FAILED"; exit 1; }
  grep -E "^(INITED|DONE)" "$OUT/$t.log"
done
echo "fuzz: every target ran ${SECONDS_PER_TARGET} s with no findings"
