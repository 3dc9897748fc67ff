import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';

/**
 * Runs a bench worker in a fresh Node process (`--import tsx`, plus `nodeFlags`) and returns the JSON
 * object on the last line of its stdout. Workers keep seeding and heavy state out of this process.
 */
export function runWorker<T>(script: string, args: Array<string | number>, options: { nodeFlags?: string[]; timeoutMs?: number } = {}): T {
  const child = spawnSync(process.execPath, ['--import', 'tsx', ...(options.nodeFlags ?? []), script, ...args.map(String)], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 600_000,
    maxBuffer: 64 * 2 ** 20,
  });
  const lines = (child.stdout ?? '').trim().split('\n');
  const last = lines.at(-1) ?? '';
  if (child.status !== 0 || !last.startsWith('{')) {
    const reason = child.error?.message ?? `exit ${child.status ?? child.signal}`;
    throw new Error(`${script} ${args.join(' ')}: ${reason}\n${(child.stderr ?? '').slice(-2000)}`);
  }
  return JSON.parse(last) as T;
}

/** Wall-clock seconds and exit status of a command (for suites timed from outside). */
export function timeCommand(
  command: string,
  args: string[],
  timeoutMs = 600_000,
): { seconds: number; status: number | null; stdout: string; stderr: string } {
  const started = process.hrtime.bigint();
  const child = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
  return {
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    status: child.status,
    stdout: child.stdout ?? '',
    stderr: child.stderr ?? '',
  };
}

/**
 * Starts a worker thread on a TypeScript module (`import.meta.url` of the caller): a worker thread does not
 * inherit `--import tsx` on Node 20, so it registers tsx, then loads the module.
 */
export function startTsxThread(moduleUrl: string, workerData: unknown): Worker {
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
