// Regions of the kernels-*.cc files compiled for instruction sets beyond the build's baseline.
// Only intrinsics and functions with internal linkage may live inside a region, so no inline
// function of a shared header is ever emitted with instructions an older CPU lacks (the callers
// check the CPU first: kernels-isa.cc).
#pragma once

#define XLAM_PRAGMA(text) _Pragma(#text)

#if defined(__clang__)
#define XLAM_TARGET_BEGIN(features) XLAM_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define XLAM_TARGET_END XLAM_PRAGMA(clang attribute pop)
#define XLAM_TARGET_AVX512_BEGIN XLAM_TARGET_BEGIN("avx512f,avx512bw")
#define XLAM_TARGET_AVX512_END XLAM_TARGET_END
#else
#define XLAM_TARGET_BEGIN(features) XLAM_PRAGMA(GCC push_options) XLAM_PRAGMA(GCC target(features))
#define XLAM_TARGET_END XLAM_PRAGMA(GCC pop_options)
// GCC 12's AVX-512 headers initialise "undefined" vectors from themselves, which -Wuninitialized
// reports at every inlined use; the lanes are never read.
#define XLAM_TARGET_AVX512_BEGIN                                                              \
  XLAM_TARGET_BEGIN("avx512f,avx512bw") XLAM_PRAGMA(GCC diagnostic push)                      \
  XLAM_PRAGMA(GCC diagnostic ignored "-Wuninitialized") XLAM_PRAGMA(GCC diagnostic ignored "-Wmaybe-uninitialized")
#define XLAM_TARGET_AVX512_END XLAM_PRAGMA(GCC diagnostic pop) XLAM_TARGET_END
#endif
