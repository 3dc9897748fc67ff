import type { AnyStateMachine } from 'xstate';
import { UnknownMachineVersionError } from '../errors.js';

/** Turns a persisted snapshot written by machine version n into one version n + 1 restores. */
export type SnapshotMigration = (persisted: unknown) => unknown;

/**
 * A machine as a host runs it for years: the machine, the version of its persisted snapshots, and the
 * migrations that bring snapshots of older versions up to it (`migrations[n]` takes version n to n + 1).
 */
export interface WorkflowDefinition<TMachine extends AnyStateMachine = AnyStateMachine> {
  machine: TMachine;
  version: number;
  migrations: Readonly<Record<number, SnapshotMigration>>;
}

/**
 * The snapshot as the definition's version restores it: migrated step by step from `storedVersion`.
 * A version above the definition's, or one with a missing step, is a typed error.
 */
export function upgradeSnapshot(definition: WorkflowDefinition, workflowId: string, persisted: unknown, storedVersion: number): unknown {
  if (!Number.isInteger(storedVersion) || storedVersion > definition.version || storedVersion < 1) {
    throw new UnknownMachineVersionError(workflowId, storedVersion, definition.version);
  }
  let current = persisted;
  for (let version = storedVersion; version < definition.version; version += 1) {
    const migrate = Object.hasOwn(definition.migrations, version) ? definition.migrations[version] : undefined;
    if (!migrate) throw new UnknownMachineVersionError(workflowId, storedVersion, definition.version);
    current = migrate(structuredClone(current));
  }
  return current;
}
