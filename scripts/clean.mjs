// Removes the compiled tree so that deleted sources never leave stale tests or modules behind.
import { rmSync } from 'node:fs';
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
