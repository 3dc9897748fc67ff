// What the tarball points at is in the tarball: every source map's sources, and every relative link
// of README.md and docs/ (with its #L line anchor, when it has one).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.resolve('jd-dispute-statecharts/package.json')));
const walk = (dir) =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
const broken = [];
let maps = 0;
let links = 0;

for (const file of walk('dist').filter((path) => path.endsWith('.map'))) {
  maps += 1;
  const map = JSON.parse(readFileSync(join(root, file), 'utf8'));
  for (const source of map.sources) {
    if (!existsSync(join(root, dirname(file), map.sourceRoot ?? '', source))) broken.push(`${file}: source ${source}`);
  }
}

for (const page of ['README.md', ...walk('docs').filter((path) => path.endsWith('.md'))]) {
  const text = readFileSync(join(root, page), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1];
    if (/^[a-z]+:/.test(target) || target.startsWith('#')) continue;
    links += 1;
    const [path, anchor] = target.split('#');
    const file = join(root, dirname(page), path);
    if (!existsSync(file) || relative(root, file).startsWith('..')) broken.push(`${page} → ${target}: not in the package`);
    else if (/^L\d+$/.test(anchor ?? '') && Number(anchor.slice(1)) > readFileSync(file, 'utf8').split('\n').length) {
      broken.push(`${page} → ${target}: no such line`);
    }
  }
}

if (broken.length) {
  console.log(`FAIL ${broken.length} references point outside the package:\n  ${broken.slice(0, 30).join('\n  ')}`);
  process.exit(1);
}
console.log(`ok   ${maps} source maps and ${links} relative links of README.md and docs/ resolve inside the package`);
