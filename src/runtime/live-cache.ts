import type { LiveSystem } from '../engine/step.js';

/**
 * A bounded cache of live actor systems, keyed by workflow id, so that a hot workflow is not restored
 * from its persisted JSON for every command. An entry is the system as it stood right after a commit
 * of this runtime wrote `version`; it is used only for a loaded record of exactly that version, so
 * whatever another worker committed meanwhile wins (the commit's version check guarantees the rest: a
 * commit prepared on a stale system is refused, and the system is dropped).
 *
 * A command takes its entry out (`take`) and gives the system back only after its commit succeeded
 * (`put`): two commands of one workflow in one runtime never share a system, and a system the draft
 * advanced without a commit (a refused event after a catch-up, a failed or conflicting commit) is
 * stopped, never reused.
 */
export interface LiveCacheOptions {
  /** At most this many systems (least recently used evicted first); 0 turns the cache off. */
  maxWorkflows: number;
  /** An entry unused for this long is evicted at the next access (real time, not the runtime's clock). */
  idleMs: number;
}

export interface LiveCacheStats {
  size: number;
  hits: number;
  misses: number;
  /** Entries found for another version than the loaded record's (another worker committed): dropped. */
  stale: number;
  evicted: number;
}

/** A cache entry as taken out. */
export interface LiveEntry<Kept> {
  version: number;
  system: LiveSystem;
  /** What the runtime keeps with the system (the committed row's header, its projections). */
  kept: Kept;
}

interface Entry<Kept> extends LiveEntry<Kept> {
  usedAt: number;
}

export const DEFAULT_LIVE_CACHE: LiveCacheOptions = { maxWorkflows: 1_000, idleMs: 60_000 };

export class LiveCache<Kept = undefined> {
  private readonly entries = new Map<string, Entry<Kept>>();
  private readonly counts = { hits: 0, misses: 0, stale: 0, evicted: 0 };

  constructor(
    private readonly options: LiveCacheOptions,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.options.maxWorkflows > 0;
  }

  /** The version the cache holds `workflowId` at (nothing is taken or counted); null when it holds none. */
  versionOf(workflowId: string): number | null {
    return this.entries.get(workflowId)?.version ?? null;
  }

  /** The live system of `workflowId` at `version`, taken out of the cache; undefined when there is none. */
  take(workflowId: string, version: number): LiveEntry<Kept> | undefined {
    const entry = this.entries.get(workflowId);
    if (!entry) {
      this.counts.misses += 1;
      return undefined;
    }
    this.entries.delete(workflowId);
    if (entry.version !== version || !entry.system.isOpen) {
      this.counts.stale += 1;
      entry.system.stop();
      return undefined;
    }
    this.counts.hits += 1;
    return entry;
  }

  /**
   * The entry of `workflowId` at whatever version it holds, taken out of the cache without asking the
   * store which version is current (the caller's commit checks it, then `count`s what it found out);
   * undefined when there is none (nothing counted: the caller reads the store and `take`s as usual).
   */
  takeLatest(workflowId: string): LiveEntry<Kept> | undefined {
    const entry = this.entries.get(workflowId);
    if (!entry) return undefined;
    this.entries.delete(workflowId);
    if (entry.system.isOpen) return entry;
    this.counts.stale += 1;
    return undefined;
  }

  /** What an entry taken by `takeLatest` turned out to be: the store's version (hit) or an older one (stale). */
  count(outcome: 'hit' | 'stale'): void {
    this.counts[outcome === 'hit' ? 'hits' : 'stale'] += 1;
  }

  /** Keeps `system` as `workflowId` at `version` (the version its last commit wrote). */
  put(workflowId: string, version: number, system: LiveSystem, kept: Kept): void {
    if (!this.enabled || !system.isOpen) {
      system.stop();
      return;
    }
    const now = this.clock();
    const previous = this.entries.get(workflowId);
    if (previous) {
      this.entries.delete(workflowId);
      if (previous.system !== system) previous.system.stop();
    }
    this.entries.set(workflowId, { version, system, kept, usedAt: now });
    this.evict(now);
  }

  /** Drops every entry (the runtime closes). */
  clear(): void {
    for (const entry of this.entries.values()) entry.system.stop();
    this.entries.clear();
  }

  stats(): LiveCacheStats {
    return { size: this.entries.size, ...this.counts };
  }

  private evict(now: number): void {
    // Map order is insertion order and `put` re-inserts: the first entries are the least recently used.
    for (const [workflowId, entry] of this.entries) {
      const full = this.entries.size > this.options.maxWorkflows;
      if (!full && now - entry.usedAt < this.options.idleMs) break;
      this.entries.delete(workflowId);
      entry.system.stop();
      this.counts.evicted += 1;
    }
  }
}
