#pragma once

namespace xlam::cpu {
// Registers "cpu" (fast paths, all cores) and "cpu-reference" (the oracle) in the backend registry.
void register_cpu_backends();
}  // namespace xlam::cpu
