// Where the shared fixture histories are: shared/ sits beside the repository checkout (here and
// in CI), i.e. four folders up from dist/test/chaos/lincheck/. LINCHECK_FIXTURES_DIR overrides.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function fixturesDir(): string | null {
  const dir = process.env.LINCHECK_FIXTURES_DIR ?? fileURLToPath(new URL('../../../../../shared/fixtures/', import.meta.url));
  return existsSync(dir) ? dir : null;
}
