import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIAGRAM_MACHINES, DIAGRAMS_DIR, diagramDoc } from '../../scripts/docs-diagrams.js';

describe('docs/diagrams match the machines', () => {
  for (const machine of DIAGRAM_MACHINES) {
    it(`docs/diagrams/${machine.id}.md`, () => {
      const file = `${DIAGRAMS_DIR}${machine.id}.md`;
      const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
      expect(committed === diagramDoc(machine), `docs/diagrams/${machine.id}.md is out of date: run \`npm run docs:diagrams\``).toBe(true);
    });
  }

  it('labels delays in hours, guards by name, and nests refunding', () => {
    const cancellation = diagramDoc(DIAGRAM_MACHINES.find((m) => m.id === 'cancellation')!);
    expect(cancellation).toContain('logisticsFollowUp --> intercepting : after 48h [isJdDelivered]');
    expect(cancellation).toContain('intercepting --> interceptFailed : after 72h');
    expect(cancellation).toMatch(/state refunding \{\n\s+\[\*\] --> refunding__requesting/);
  });
});
