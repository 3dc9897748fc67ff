import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogueRules, expandIds, generateDocs, idPattern, isShipped, loadRules, staleDocs } from '../../scripts/docs.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CATALOGUE = join(ROOT, '../shared/spec/DOMAIN.md');

function markdownPages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? markdownPages(join(dir, entry.name)) : entry.name.endsWith('.md') ? [join(dir, entry.name)] : []))
    .sort();
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6} (.+)$/gm)) anchors.add(slug(match[1]!.replace(/`/g, '')));
  for (const match of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(match[1]!);
  return anchors;
}

interface Link {
  page: string;
  target: string;
  line: number;
}

/** Relative links of the README and every page in docs/ (external URLs are not followed). */
function links(): Link[] {
  const found: Link[] = [];
  for (const path of [join(ROOT, 'README.md'), ...markdownPages(join(ROOT, 'docs'))]) {
    const text = readFileSync(path, 'utf8').replace(/^```[\s\S]*?^```/gm, (block) => block.replace(/[^\n]/g, ' '));
    for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      found.push({ page: relative(ROOT, path), target, line: text.slice(0, match.index).split('\n').length });
    }
  }
  return found;
}

describe('docs/rules.md and the links of docs/', () => {
  it.runIf(existsSync(CATALOGUE))(
    'the committed rule list (docs/rules.json) is the catalogue of DOMAIN.md, in order, with its [N]/[I] markers',
    () => {
      const catalogue = catalogueRules(readFileSync(CATALOGUE, 'utf8'));
      expect(loadRules().map(({ id, marker }) => ({ id, marker }))).toEqual(catalogue);
    },
  );

  it('every relative link of the README and docs/ points into what the package ships (tests are named, not linked)', () => {
    const outside = links()
      .map((link) => ({ ...link, file: relative(ROOT, join(ROOT, dirname(link.page), link.target.split('#')[0] || link.page)) }))
      .filter((link) => !isShipped(link.file))
      .map((link) => `${link.page}:${link.line} → ${link.target}`);
    expect(outside).toEqual([]);
  });

  it('every relative link of the README and docs/ reaches an existing file, line and heading', () => {
    const broken: string[] = [];
    for (const link of links()) {
      const [path, anchor] = link.target.split('#') as [string, string | undefined];
      const file = path ? join(ROOT, dirname(link.page), path) : join(ROOT, link.page);
      const where = `${link.page}:${link.line} → ${link.target}`;
      if (!existsSync(file)) {
        broken.push(`${where}: no such file`);
        continue;
      }
      if (!anchor) continue;
      const lines = /^L(\d+)$/.exec(anchor);
      if (lines) {
        if (Number(lines[1]) > readFileSync(file, 'utf8').split('\n').length) broken.push(`${where}: no such line`);
      } else if (file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
        broken.push(`${where}: no such heading or anchor`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every code link of rules.md lands on a line that names the rule, every test reference on a test titled with it', () => {
    const rulesPage = readFileSync(join(ROOT, 'docs/rules.md'), 'utf8');
    const wrong: string[] = [];
    let checked = 0;
    for (const row of rulesPage.matchAll(/^\| <a id="[^"]+"><\/a>\*\*([A-Z]+\d+[a-e]?)\*\* \|(.*)$/gm)) {
      const [, id, rest] = row as unknown as [string, string, string];
      const cells = rest.split(/(?<!\\)\|/);
      const [implemented = '', proved = ''] = [cells[2], cells[3]];
      for (const [cell, isTest] of [
        [implemented, false],
        [proved, true],
      ] as const) {
        // Shipped files are linked (`](../machines/order.ts#L12`), tests named as code (`test/rules/plans.test.ts:18`).
        for (const match of cell.matchAll(/\]\(\.\.\/([^#)\s]+)#L(\d+)|`((?:test|bench)\/[^`:]+):(\d+)`/g)) {
          checked += 1;
          const [file, line] = [match[1] ?? match[3]!, Number(match[2] ?? match[4])];
          const text = readFileSync(join(ROOT, file), 'utf8').split('\n')[line - 1] ?? '';
          const names = isTest ? titleIds(text).includes(id) : idPattern(id).test(text);
          if (!names) wrong.push(`${id}: ${file}:${line} does not ${isTest ? 'hold a test titled with' : 'name'} it: ${text.trim()}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });

  it('every rule is proved by at least one test that carries its ID (P4 through D4 and D6)', () => {
    const page = readFileSync(join(ROOT, 'docs/rules.md'), 'utf8');
    const unproved = loadRules()
      .map((rule) => rule.id)
      .filter((id) => new RegExp(`\\*\\*${id}\\*\\* \\|[^\\n]*\\*\\*no test names it\\*\\*`).test(page));
    expect(unproved).toEqual([]);
  });

  it('the generated docs are current: regenerating them in memory changes nothing (run npm run docs)', () => {
    expect(staleDocs(), 'stale: run `npm run docs` and commit docs/').toEqual([]);
    expect([...generateDocs().keys()]).toEqual(
      expect.arrayContaining([
        'docs/README.md',
        'docs/rules.md',
        'docs/machines/order.md',
        'docs/machines/dispute.md',
        'docs/machines/cancellation.md',
      ]),
    );
  });

  it('expands rule lists as tests write them', () => {
    expect(expandIds('INV1–INV4 and P2/P3d/C4')).toEqual(['INV1', 'INV2', 'INV3', 'INV4', 'P2', 'P3d', 'C4']);
    expect(expandIds('D2/D3')).toEqual(['D2', 'D3']);
  });
});

/** Rule IDs a test title on this line starts or ends with. */
function titleIds(line: string): string[] {
  const ids: string[] = [];
  for (const literal of line.matchAll(/(['"`])((?:\\.|(?!\1).)*)\1/g)) {
    const title = literal[2]!;
    const lead = /^((?:INV|[DPCXAR])\d+[a-e]?(?:\s*(?:[/,–-]|and)\s*(?:INV|[DPCXAR])\d+[a-e]?)*)/.exec(title)?.[1];
    const tail = /\(((?:INV|[DPCXAR])\d+[a-e]?(?:\s*(?:[/,–-]|and)\s*(?:INV|[DPCXAR])\d+[a-e]?)*)\)\s*$/.exec(title)?.[1];
    for (const list of [lead, tail]) if (list) ids.push(...expandIds(list));
  }
  return ids;
}
