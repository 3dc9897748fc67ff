import type { BatchCommitStore, BatchEffectStore, Commit, WorkflowStore } from './store.js';

/**
 * Group commit: commits handed over during one turn of the event loop are written together, in one
 * store transaction (`commitAll`), and each caller is answered only after that transaction committed.
 * At most `maxWriting` groups are written at once (two: one being written while the next one's
 * connection works); commits handed over meanwhile wait and go together in the next group. On a
 * networked store the groups grow with the load instead of multiplying, each group costing its round
 * trips and WAL flush (PostgreSQL, 64 in flight: 2.3 commits per group without the limit, 15 with it).
 * A refused commit (version conflict, duplicate command) writes nothing and rejects only its own caller,
 * exactly as `commit` would have. A failure of the whole transaction rejects every caller of the group
 * (nothing of it was written).
 *
 * Without `commitAll` (or with grouping off) every commit is its own transaction, as before.
 */
export class GroupCommitter {
  private queue: Waiting[] = [];
  private scheduled = false;
  private writing = 0;
  /** Commits written, and transactions used for them (commits ÷ groups is the mean group size). */
  readonly counts = { commits: 0, groups: 0 };

  constructor(
    private readonly store: WorkflowStore,
    private readonly enabled: boolean,
    private readonly maxGroup = 64,
    private readonly maxWriting = 2,
  ) {}

  commit(commit: Commit): Promise<void> {
    const batch = this.enabled ? (this.store as Partial<BatchCommitStore>).commitAll : undefined;
    if (!batch) {
      this.counts.commits += 1;
      this.counts.groups += 1;
      return this.store.commit(commit);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ commit, resolve, reject });
      if (!this.scheduled && this.writing < this.maxWriting) {
        this.scheduled = true;
        // Commands that arrive together reach this point in the same turn: write them after it.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.writing += 1;
    try {
      while (this.queue.length > 0) await this.write(this.queue.splice(0, this.maxGroup));
    } finally {
      this.writing -= 1;
    }
  }

  /** Writes one group; answers each of its callers, never throws. */
  private async write(group: Waiting[]): Promise<void> {
    this.counts.commits += group.length;
    this.counts.groups += 1;
    if (group.length === 1) {
      const [only] = group;
      await this.store.commit(only!.commit).then(only!.resolve, only!.reject);
      return;
    }
    try {
      const refusals = await (this.store as WorkflowStore & BatchCommitStore).commitAll(group.map((item) => item.commit));
      group.forEach((item, index) => {
        const refusal = refusals[index];
        if (refusal === null) item.resolve();
        else item.reject(refusal ?? new Error('the store returned no outcome for this commit'));
      });
    } catch (error) {
      for (const item of group) item.reject(error);
    }
  }
}

type Waiting = { commit: Commit; resolve: () => void; reject: (error: unknown) => void };

/**
 * The effects of one outbox pass completed together. The runtime delivers a pass (the rows it claimed at
 * once) through `pass`; a delivery that ends in `completeEffect` (a notification sent, a request the
 * service accepted) waits until every other delivery of the pass has either asked for its completion or
 * finished, and the pass's completions are written in one transaction through the store's
 * `completeEffects`. A slow sibling holds the others' completions at most `maxWaitMs`. If that
 * transaction fails, every caller of the group gets the error and its effect stays under its lease
 * (delivered again when the lease expires, as after any failed completion). Without `completeEffects`,
 * or outside a pass, each effect is completed on its own, as before.
 */
export class EffectCompleter {
  private readonly passes = new Map<string, Pass>();
  /** Effects completed, and transactions used for them. */
  readonly counts = { effects: 0, groups: 0 };

  constructor(
    private readonly store: WorkflowStore,
    private readonly maxWaitMs = 50,
  ) {}

  /** Runs `deliver` for every row of one pass at once; resolves when all of them have settled. */
  async pass<Row extends { effectId: string }>(rows: readonly Row[], deliver: (row: Row) => Promise<void>): Promise<void> {
    if (typeof (this.store as Partial<BatchEffectStore>).completeEffects !== 'function' || rows.length < 2) {
      await Promise.all(rows.map(deliver));
      return;
    }
    const pass: Pass = { waiting: rows.length, queue: [], asked: new Set(), timer: undefined };
    for (const row of rows) this.passes.set(row.effectId, pass);
    try {
      await Promise.all(
        rows.map((row) =>
          deliver(row).finally(() => {
            this.passes.delete(row.effectId);
            if (pass.asked.has(row.effectId)) return;
            pass.waiting -= 1;
            this.maybeFlush(pass);
          }),
        ),
      );
    } finally {
      for (const row of rows) this.passes.delete(row.effectId);
    }
  }

  /** `completeEffect` as the dispatcher calls it: grouped with its pass, or on its own. */
  complete(effectId: string): Promise<void> {
    const pass = this.passes.get(effectId);
    if (!pass || pass.asked.has(effectId)) {
      this.counts.effects += 1;
      this.counts.groups += 1;
      return this.store.completeEffect(effectId);
    }
    return new Promise<void>((resolve, reject) => {
      pass.asked.add(effectId);
      pass.waiting -= 1;
      pass.queue.push({ effectId, resolve, reject });
      if (pass.timer === undefined && pass.waiting > 0) {
        pass.timer = setTimeout(() => this.flush(pass), this.maxWaitMs);
        pass.timer.unref();
      }
      this.maybeFlush(pass);
    });
  }

  private maybeFlush(pass: Pass): void {
    if (pass.waiting <= 0 && pass.queue.length > 0) this.flush(pass);
  }

  private flush(pass: Pass): void {
    if (pass.timer !== undefined) clearTimeout(pass.timer);
    pass.timer = undefined;
    const group = pass.queue;
    pass.queue = [];
    if (group.length === 0) return;
    this.counts.effects += group.length;
    this.counts.groups += 1;
    const written =
      group.length === 1
        ? this.store.completeEffect(group[0]!.effectId)
        : (this.store as WorkflowStore & BatchEffectStore).completeEffects(group.map((item) => item.effectId));
    written.then(
      () => {
        for (const item of group) item.resolve();
      },
      (error: unknown) => {
        for (const item of group) item.reject(error);
      },
    );
  }
}

interface Pass {
  /** Deliveries of the pass that have neither asked for completion nor finished. */
  waiting: number;
  queue: Array<{ effectId: string; resolve: () => void; reject: (error: unknown) => void }>;
  asked: Set<string>;
  timer: NodeJS.Timeout | undefined;
}
