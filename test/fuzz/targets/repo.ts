// Paths of the repository from the compiled targets (dist/test/fuzz/targets -> repo root).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const repoPath = (...parts: string[]) => join(repoRoot, ...parts);
