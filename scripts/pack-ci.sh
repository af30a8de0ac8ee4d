#!/usr/bin/env bash
# What a user gets from `npm install xlam-engine` (issue 7, item 6): prebuild the addon and the
# CUDA library, pack the tarball, install it into an empty project with no compiler, CMake or
# make on the PATH, run a tiny model on the CPU, and check the engine says why CUDA is not used.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

npm run prebuild
ls -l prebuilds/linux-x64/
test -f prebuilds/linux-x64/xlam-engine.node
test -f prebuilds/linux-x64/libxlam-cuda.so

TARBALL=$(npm pack --silent --pack-destination "$WORK" | tail -1)
echo "pack-ci: $TARBALL"
tar tzf "$WORK/$TARBALL" > "$WORK/contents"
grep -qx 'package/prebuilds/linux-x64/xlam-engine.node' "$WORK/contents"
grep -qx 'package/prebuilds/linux-x64/libxlam-cuda.so' "$WORK/contents"
grep -qx 'package/dist/lib/index.js' "$WORK/contents"

# A PATH with node, npm and sh only (npm runs scripts through sh): no cc, c++, g++, clang, cmake,
# make, nvcc, python.
mkdir -p "$WORK/bin"
ln -s "$(command -v node)" "$WORK/bin/node"
ln -s "$(command -v npm)" "$WORK/bin/npm"
ln -s "$(command -v sh)" "$WORK/bin/sh"
for tool in cc c++ g++ gcc clang cmake make nvcc python3; do
  if PATH="$WORK/bin" command -v "$tool" >/dev/null 2>&1; then echo "pack-ci: $tool is still on the PATH"; exit 1; fi
done
mkdir "$WORK/app"
cd "$WORK/app"
PATH="$WORK/bin" npm init -y >/dev/null
PATH="$WORK/bin" npm install --no-audit --no-fund "$WORK/$TARBALL"
test ! -d node_modules/xlam-engine/build || { echo "pack-ci: the install built the addon instead of using the prebuild"; exit 1; }

cat > run.mjs <<JS
import { Engine } from 'xlam-engine';
const engine = await Engine.load(process.argv[2]);
const info = engine.info();
const { tokens } = await engine.generateTokens([1, 2, 3], { maxTokens: 4 });
await engine.close();
console.log(JSON.stringify({ backend: info.backend, note: info.backendNote, tokens }));
if (info.backend !== 'cpu' || tokens.length !== 4) process.exitCode = 1;
// The reason must come from the CUDA library itself (it was found and loaded), not a missing file.
if (!/^CUDA not used: (no NVIDIA driver|the NVIDIA driver|no CUDA device|no usable CUDA device)/.test(info.backendNote ?? '')) process.exitCode = 1;
JS
PATH="$WORK/bin" node run.mjs "$ROOT/test/fixtures/models/qwen2-f32"
echo "pack-ci: the packed tarball installs without a compiler, runs on the CPU and reports why CUDA is not used"
