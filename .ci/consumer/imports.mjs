// Imports every subpath of the installed package's "exports" under node, and writes src/subpaths.ts,
// which imports the same subpaths for tsc. `node imports.mjs ./postgres=pg` expects ./postgres to fail
// because the optional peer `pg` is absent (and leaves it out of src/subpaths.ts).
import { readFileSync, writeFileSync } from 'node:fs';

const NAME = 'jd-dispute-statecharts';
const missing = new Map(process.argv.slice(2).map((arg) => arg.split('=')));
const manifest = JSON.parse(readFileSync(new URL(import.meta.resolve(`${NAME}/package.json`)), 'utf8'));
let failed = 0;
const typed = [];
for (const subpath of Object.keys(manifest.exports)) {
  const specifier = NAME + subpath.slice(1);
  const peer = missing.get(subpath);
  try {
    const module = subpath.endsWith('.json') ? await import(specifier, { with: { type: 'json' } }) : await import(specifier);
    const names = Object.keys(module).filter((name) => name !== 'default');
    if (peer) {
      failed += 1;
      console.log(`FAIL ${specifier}: imported although ${peer} is not installed`);
    } else if (!subpath.endsWith('.json') && names.length === 0) {
      failed += 1;
      console.log(`FAIL ${specifier}: exports nothing`);
    } else {
      if (!subpath.endsWith('.json')) typed.push(specifier);
      console.log(`ok   ${specifier} (${subpath.endsWith('.json') ? 'json' : `${names.length} exports`})`);
    }
  } catch (error) {
    if (peer && error.code === 'ERR_MODULE_NOT_FOUND' && error.message.includes(`'${peer}'`)) {
      console.log(`ok   ${specifier} needs the optional peer ${peer}: ${error.message.split('\n')[0]}`);
    } else {
      failed += 1;
      console.log(`FAIL ${specifier}: ${error.stack ?? error}`);
    }
  }
}
writeFileSync(
  'src/subpaths.ts',
  `${typed.map((specifier, index) => `import * as entry${index} from '${specifier}';`).join('\n')}\nexport const entries = [${typed.map((_, index) => `entry${index}`).join(', ')}];\n`,
);
process.exit(failed ? 1 : 0);
