// The README's usage example, as the installed package ships it: `extract` writes it verbatim to
// src/usage.ts; `check` runs the compiled out/usage.js and compares its output with the example's
// `// → …` comments, one comment per printed line, in order.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const readme = readFileSync(
  new URL(import.meta.resolve('jd-dispute-statecharts/package.json')).pathname.replace(/package\.json$/, 'README.md'),
  'utf8',
);
const usage = /^## Usage\n[\s\S]*?^```ts\n([\s\S]*?)^```$/m.exec(readme)?.[1];
if (!usage) throw new Error('README.md has no ```ts block under "## Usage"');

if (process.argv[2] === 'extract') {
  writeFileSync('src/usage.ts', usage);
  console.log(`ok   README usage example: ${usage.split('\n').length - 1} lines written to src/usage.ts`);
} else {
  const expected = [...usage.matchAll(/\/\/ → (.*)$/gm)].map((match) => match[1].trimEnd());
  const actual = execFileSync(process.execPath, ['out/usage.js'], { encoding: 'utf8' }).trimEnd().split('\n');
  if (expected.length === 0) throw new Error('the usage example states no output (`// → …` comments)');
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    console.log('FAIL README usage example prints other lines than its comments say');
    console.log(`  expected: ${JSON.stringify(expected)}\n  printed:  ${JSON.stringify(actual)}`);
    process.exit(1);
  }
  console.log(`ok   README usage example prints its ${expected.length} commented lines`);
}
