/**
 * Summarises a `.cpuprofile`: self time per function (top N) and inclusive time of the functions named
 * on the command line (a frame counted once per sample even when recursive).
 *
 *   node --import tsx bench/profile-summary.ts file.cpuprofile [top] [name …]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, ...names] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts file.cpuprofile [top] [name …]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const label = (node: Node) => {
  const url = node.callFrame.url.replace(/^.*\/(node_modules\/)?/, '');
  return `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const node = byId.get(id)!;
  self.set(label(node), (self.get(label(node)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = byId.get(at)!.callFrame.functionName;
    if (names.includes(name) && !seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
    }
  }
});
const pct = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
console.log(`total ${(total / 1e6).toFixed(2)} s`);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 40))) console.log(`${pct(us).padStart(7)}  ${name}`);
if (names.length > 0) console.log('inclusive:');
for (const name of names) console.log(`${pct(inclusive.get(name) ?? 0).padStart(7)}  ${name}`);
