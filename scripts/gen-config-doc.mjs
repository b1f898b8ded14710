// Writes docs/config.md from the config schema (run after a build: `npm run docs:config`).
import { writeFileSync } from 'node:fs';
import { renderConfigDoc } from '../dist/src/server/config-doc.js';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigDoc());
console.log('docs/config.md written');
