// Stores this release's in-flight workflows as fixtures that later releases must restore and finish.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ORDER_MACHINE_VERSION } from '../machines/order.js';
import { captureFixtures } from '../test/versioning/scenarios.js';

const dir = join(import.meta.dirname, '../test/fixtures/snapshots', `v${ORDER_MACHINE_VERSION}`);
mkdirSync(dir, { recursive: true });
for (const fixture of await captureFixtures()) {
  const file = join(dir, `${fixture.name}.json`);
  writeFileSync(file, `${JSON.stringify(fixture, null, 2)}\n`);
  console.log(`wrote ${file} (${fixture.record.status}, ${fixture.deadlines.length} deadlines, ${fixture.outbox.length} pending effects)`);
}
