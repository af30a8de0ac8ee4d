// XLAM_HD marks the few engine functions the CUDA kernels call too (philox.h, sample-math.h):
// __host__ __device__ under nvcc, empty everywhere else. The emulated CUDA build (CUDA_EMU) runs
// device code as host code, so it needs no mark either; and the engine includes no CUDA header.
#pragma once

#if defined(__CUDACC__)
#define XLAM_HD __host__ __device__
#else
#define XLAM_HD
#endif
