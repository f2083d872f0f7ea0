// `npm run bench`: runs every bench/*.bench.mjs in name order against the built dist/.
import { readdirSync } from 'node:fs';

const only = process.argv.slice(2);
const files = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
for (const f of files) {
  const mod = await import(new URL(f, import.meta.url));
  await mod.default();
}
