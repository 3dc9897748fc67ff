import type { DeadlineRow } from './store.js';

/**
 * Durable timers. XState drops timers when a snapshot is persisted (statelyai/xstate#5331), so the
 * runtime keeps every pending delayed transition as a deadline row with its absolute due time
 * (`context.deadlines` in the machines), rewritten completely by every commit.
 *
 * The scheduler claims due rows under a lease (a bounded batch: memory never holds more) and asks the
 * runtime to advance each row's workflow up to the row's due time. Advancing fires, in due order, every
 * deadline of that workflow due by then, each as its `xstate.after.*` event at its own due time, in one
 * commit with its audit rows. A row whose deadline is no longer pending (the state was left early, or
 * another worker fired it) fires nothing. Since the same catch-up runs before every command, a deadline
 * fires exactly once, at its due time, however late the scheduler runs: results never depend on lag.
 */

export type DeadlineOutcome = 'fired' | 'skipped';

export interface SchedulerDeps {
  claim(now: number): Promise<DeadlineRow[]>;
  /** Fires the workflow's deadlines due at or before `dueAt`; 'skipped' when none was pending. */
  advance(workflowId: string, dueAt: number): Promise<DeadlineOutcome>;
  /**
   * Optional: does `advance` for rows of distinct workflows at once (their commits in a few store
   * transactions, the earliest first); per row, the outcome or the error. Rows are as `advance` gets
   * them, one per workflow.
   */
  advanceMany?(rows: readonly DeadlineRow[]): Promise<Array<DeadlineOutcome | { error: unknown }>>;
  onError(error: unknown, context: string): void;
}

export interface SchedulerRound {
  claimed: number;
  fired: number;
  skipped: number;
  failed: number;
}

/**
 * One batch: claim due deadlines (oldest first) and fire them. With `advanceMany`, the first row of
 * each workflow goes in one call (a few transactions), and the other rows of a workflow already in it
 * (several of its deadlines due) follow one by one, in claim order, as they always did.
 */
export async function runDeadlineBatch(deps: SchedulerDeps, now: number): Promise<SchedulerRound> {
  const rows = await deps.claim(now);
  const round: SchedulerRound = { claimed: rows.length, fired: 0, skipped: 0, failed: 0 };
  const count = (row: DeadlineRow, outcome: DeadlineOutcome | { error: unknown }) => {
    if (outcome === 'fired') round.fired += 1;
    else if (outcome === 'skipped') round.skipped += 1;
    else {
      // The row keeps its lease and is claimed again when the lease expires: never lost.
      round.failed += 1;
      deps.onError(outcome.error, `deadline ${row.deadlineId}`);
    }
  };
  let rest = rows;
  if (deps.advanceMany && rows.length > 1) {
    const seen = new Set<string>();
    const first: DeadlineRow[] = [];
    rest = [];
    for (const row of rows) {
      if (seen.has(row.workflowId)) rest.push(row);
      else {
        seen.add(row.workflowId);
        first.push(row);
      }
    }
    let outcomes: Array<DeadlineOutcome | { error: unknown }>;
    try {
      outcomes = await deps.advanceMany(first);
    } catch (error) {
      outcomes = first.map(() => ({ error }));
    }
    first.forEach((row, index) => {
      count(row, outcomes[index] ?? { error: new Error('no outcome') });
    });
  }
  for (const row of rest) {
    try {
      count(row, await deps.advance(row.workflowId, row.dueAt));
    } catch (error) {
      count(row, { error });
    }
  }
  return round;
}

export interface LoopOptions {
  /** One round of work; `busy` asks for the next round at once. */
  round(): Promise<{ busy: boolean }>;
  /** Milliseconds until the next round when idle. */
  idleDelay(): Promise<number>;
  onError(error: unknown, context: string): void;
}

/**
 * The background loop: rounds back to back while there is work, otherwise sleeps until the next due
 * deadline or the poll interval. Timers are unref'd, so the loop never keeps a process alive.
 */
export class BackgroundLoop {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();

  constructor(private readonly options: LoopOptions) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Resolves when the round in flight has finished; no timer is left behind. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.turn();
    }, delay);
    this.timer.unref();
  }

  private async turn(): Promise<void> {
    if (!this.running) return;
    let delay: number;
    try {
      const { busy } = await this.options.round();
      delay = busy ? 0 : await this.options.idleDelay();
    } catch (error) {
      this.options.onError(error, 'background round');
      delay = await this.options.idleDelay().catch(() => 1_000);
    }
    if (this.running) this.schedule(Math.max(0, delay));
  }
}
