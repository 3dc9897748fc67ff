import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * File order for `npm run mutation`. Stryker runs one file at a time and stops at the first failure, so
 * a mutant dies as soon as a file that catches it has run: the file that failed last goes first (nearby
 * mutants tend to die in the same file), then the quickest files. Vitest's default runs the longest first.
 */
export default class QuickestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx;
    const resultsOf = (spec: TestSpecification) => cache.getFileTestResults(`${spec.project.name}:${relative(config.root, spec.moduleId)}`);
    const sizeOf = (spec: TestSpecification) => cache.getFileStats(`${spec.project.name}:${relative(config.root, spec.moduleId)}`)?.size ?? 0;
    return [...files].sort((a, b) => {
      const aResults = resultsOf(a);
      const bResults = resultsOf(b);
      if (aResults?.failed !== bResults?.failed) return aResults?.failed ? -1 : 1;
      if (aResults && bResults) return aResults.duration - bResults.duration;
      return sizeOf(a) - sizeOf(b);
    });
  }
}
