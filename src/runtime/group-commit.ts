import type { BatchCommitStore, Commit, WorkflowStore } from './store.js';

/**
 * Group commit: commits handed over during one turn of the event loop are written together, in one
 * store transaction with a savepoint each (`commitAll`), and each caller is answered only after that
 * transaction committed. A refused commit (version conflict, duplicate command) rolls back only its own
 * savepoint and rejects only its own caller, exactly as `commit` would have. A failure of the whole
 * transaction rejects every caller of the group (nothing of it was written).
 *
 * Without `commitAll` (or with grouping off) every commit is its own transaction, as before.
 */
export class GroupCommitter {
  private queue: Array<{ commit: Commit; resolve: () => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;
  /** Commits written, and transactions used for them (commits ÷ groups is the mean group size). */
  readonly counts = { commits: 0, groups: 0 };

  constructor(
    private readonly store: WorkflowStore,
    private readonly enabled: boolean,
    private readonly maxGroup = 64,
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
      if (!this.scheduled) {
        this.scheduled = true;
        // Commands that arrive together reach this point in the same turn: write them after it.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const pending = this.queue;
    this.queue = [];
    while (pending.length > 0) {
      const group = pending.splice(0, this.maxGroup);
      this.counts.commits += group.length;
      this.counts.groups += 1;
      if (group.length === 1) {
        const [only] = group;
        await this.store.commit(only!.commit).then(only!.resolve, only!.reject);
        continue;
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
}
