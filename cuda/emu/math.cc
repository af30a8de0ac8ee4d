// The fast-math intrinsics whose names glibc already declares (its internal __expf, __logf, ...)
// without exporting them: defined here with glibc's exact declarations, as exact host math (more
// accurate than the GPU's approximations; CUDA-EMULATION.md §7).
#include <math.h>

extern "C" {
float __expf(float x) noexcept { return expf(x); }
float __exp10f(float x) noexcept { return exp10f(x); }
float __logf(float x) noexcept { return logf(x); }
float __log2f(float x) noexcept { return log2f(x); }
float __log10f(float x) noexcept { return log10f(x); }
float __sinf(float x) noexcept { return sinf(x); }
float __cosf(float x) noexcept { return cosf(x); }
float __tanf(float x) noexcept { return tanf(x); }
float __powf(float x, float y) noexcept { return powf(x, y); }
void __sincosf(float x, float* s, float* c) noexcept { sincosf(x, s, c); }
}
