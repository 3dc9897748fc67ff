// Stryker reporter for `npm run mutation` (stryker.config.json "reporters": "progress-log"): one JSON line per
// mutant as soon as it is tested, in reports/mutation/progress.jsonl. A full run takes over an hour; a run
// stopped early still says which mutants survived so far (the json report is written only at the end).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';

const FILE = 'reports/mutation/progress.jsonl';

class ProgressLogReporter {
  onMutationTestingPlanReady() {
    mkdirSync('reports/mutation', { recursive: true });
    writeFileSync(FILE, '');
  }

  onMutantTested(result) {
    const { id, fileName, location, mutatorName, replacement, status, statusReason, killedBy } = result;
    const line = { id, file: fileName, line: location.start.line, mutatorName, replacement, status, statusReason, killedBy };
    appendFileSync(FILE, `${JSON.stringify(line)}\n`);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'progress-log', ProgressLogReporter)];
