import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine, type AnyStateMachine } from 'xstate';
import { ORDER_SNAPSHOT_MIGRATIONS } from '../../machines/migrations.js';
import { ORDER_MACHINE_VERSION, orderMachine } from '../../machines/order.js';
import { DEFAULT_POLICY } from '../../src/schemas/policy.js';
import { upgradeSnapshot, type WorkflowDefinition } from '../../src/engine/definition.js';
import { LiveSystem } from '../../src/engine/step.js';
import { UnknownMachineVersionError } from '../../src/errors.js';
import {
  createSandboxLogistics,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type WorkflowRuntime,
} from '../../src/runtime/index.js';
import type { Commit, WorkflowStore } from '../../src/runtime/store.js';
import { captureFixtures, CUSTOMER, EVIDENCE, HOUR, MERCHANT, PLATFORM, type WorkflowFixture } from './scenarios.js';
import type { OrderEventInput } from '../../src/schemas/events.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/snapshots');

function loadFixtures(version: number): WorkflowFixture[] {
  const dir = join(FIXTURES, `v${version}`);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as WorkflowFixture);
}

/** A deep copy of a machine config with state `from` renamed `to` (keys and targets), functions kept. */
function renameState(config: unknown, from: string, to: string): unknown {
  if (Array.isArray(config)) return config.map((item) => renameState(item, from, to));
  if (config === null || typeof config !== 'object') return config;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'states' && value && typeof value === 'object') {
      copy[key] = Object.fromEntries(Object.entries(value).map(([name, node]) => [name === from ? to : name, renameState(node, from, to)]));
    } else if (key === 'target' || key === 'initial') {
      copy[key] = Array.isArray(value) ? value.map((t) => (t === from ? to : t)) : value === from ? to : value;
    } else {
      copy[key] = typeof value === 'function' ? value : renameState(value, from, to);
    }
  }
  return copy;
}

/** The next release, as a test: the cancellation region's `inFlight` is renamed `cancelOrderInFlight`. */
const renamedMachine = createMachine(
  renameState(orderMachine.config, 'inFlight', 'cancelOrderInFlight') as never,
  orderMachine.implementations as never,
) as AnyStateMachine;

const nextRelease: WorkflowDefinition = {
  machine: renamedMachine,
  version: ORDER_MACHINE_VERSION + 1,
  migrations: {
    ...ORDER_SNAPSHOT_MIGRATIONS,
    [ORDER_MACHINE_VERSION]: (persisted) => {
      const snapshot = persisted as { value: { cancellation: string } };
      if (snapshot.value.cancellation === 'inFlight') snapshot.value.cancellation = 'cancelOrderInFlight';
      return snapshot;
    },
  },
};

/** Puts a fixture's rows into an empty store, as the older release left them. */
async function storeFixture(store: WorkflowStore, fixture: WorkflowFixture): Promise<void> {
  const commit = {
    workflow: fixture.record,
    expectedVersion: null,
    audit: fixture.audit,
    deadlines: fixture.deadlines,
    outbox: fixture.outbox,
    cancelOrders: [],
    command: null,
    completesEffectId: null,
    observedAt: fixture.record.updatedAt,
  } satisfies Commit;
  await store.commit(commit);
}

/** A runtime on an in-memory SQLite store holding one fixture, with a manual clock at the fixture's time. */
async function runtimeOnFixture(fixture: WorkflowFixture, definition?: WorkflowDefinition) {
  const store = createSqliteStore({ filename: ':memory:' });
  await store.migrate();
  await storeFixture(store, fixture);
  const clock = { time: fixture.record.updatedAt };
  const payments = createSandboxPayments();
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => clock.time },
    payments,
    logistics: createSandboxLogistics({ outcome: 'accepted' }),
    ...(definition ? { definition } : {}),
  });
  return { store, clock, payments, runtime };
}

/**
 * Plays every party until the order is refunded and closed: approve, object, rule against the merchant,
 * answer the interception, let timers run. Returns the events it sent.
 */
async function runToCompletion(runtime: WorkflowRuntime, clock: { time: number }, workflowId: string): Promise<string[]> {
  const sent: string[] = [];
  let command = 0;
  const send = async (event: OrderEventInput) => {
    sent.push(event.type);
    await runtime.dispatch({ workflowId, commandId: `finish-${(command += 1)}`, event });
  };
  for (let round = 0; round < 40; round += 1) {
    await runtime.tick();
    const view = await runtime.getWorkflow(PLATFORM, workflowId);
    if (view.status === 'done') return sent;
    const dispute = view.disputes.find((d) => !['resolved', 'withdrawn'].includes(d.status));
    const cancellation = view.cancelOrders.find((c) => !['refunded', 'rejected', 'withdrawn', 'closedWithoutRefund'].includes(c.status));
    if (cancellation?.status === 'pendingReview')
      await send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: cancellation.cancellationId });
    else if (cancellation?.status === 'intercepting')
      await send({
        type: 'logistics.interceptSucceeded',
        by: { role: 'system', id: 'jd-logistics' },
        cancellationId: cancellation.cancellationId,
      });
    else if (cancellation?.status === 'interceptFailed' || cancellation?.status === 'refundFailed')
      await send({ type: 'merchant.refundForced', by: MERCHANT, cancellationId: cancellation.cancellationId });
    else if (dispute?.status === 'awaitingCustomerConfirmation') await send({ type: 'customer.settlementObjected', by: CUSTOMER });
    else if (dispute?.status === 'awaitingPlatformRuling') await send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
    else if (dispute?.status === 'awaitingMerchantChoice' && !cancellation)
      await send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: EVIDENCE });
    else if (!dispute && !cancellation) await send({ type: 'dispute.opened', by: CUSTOMER, disputeId: `dispute-${round}` });
    else clock.time += HOUR;
  }
  throw new Error(`${workflowId} did not finish: ${JSON.stringify((await runtime.getWorkflow(PLATFORM, workflowId)).state)}`);
}

describe('versioned snapshots (INV5 across releases)', () => {
  const fixtures = loadFixtures(ORDER_MACHINE_VERSION);

  it("INV5: the committed fixtures are this release's persisted workflows (npm run fixtures:snapshots)", async () => {
    const current = await captureFixtures();
    expect(fixtures.map((fixture) => fixture.name).sort()).toEqual(current.map((fixture) => fixture.name).sort());
    for (const fixture of current) {
      const committed = fixtures.find((candidate) => candidate.name === fixture.name)!;
      expect(committed.record.machineVersion).toBe(ORDER_MACHINE_VERSION);
      expect(committed.record.snapshot).toEqual(fixture.record.snapshot);
      expect(committed.deadlines).toEqual(fixture.deadlines);
    }
  });

  it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))(
    'INV5: %s, stored by this release, restores through a migration after a state rename and runs to completion',
    async (_name, fixture) => {
      const { store, clock, payments, runtime } = await runtimeOnFixture(fixture, nextRelease);
      try {
        const sent = await runToCompletion(runtime, clock, fixture.record.workflowId);
        const view = await runtime.getWorkflow(PLATFORM, fixture.record.workflowId);
        expect(view.status).toBe('done');
        expect(view.output).toMatchObject({ refunded: true });
        expect(payments.executions()).toHaveLength(1);
        const record = await store.load(fixture.record.workflowId);
        expect(record?.machineVersion).toBe(ORDER_MACHINE_VERSION + 1);
        const audit = await runtime.getAuditTrail(PLATFORM, fixture.record.workflowId);
        expect(audit.slice(0, fixture.audit.length).map(({ label: _label, ...row }) => row)).toEqual(fixture.audit);
        expect(audit.map((row) => row.seq)).toEqual(audit.map((_, index) => index + 1));
        expect(sent.length + audit.length).toBeGreaterThan(fixture.audit.length);
        // The migrated workflow ran on the renamed machine.
        const states = audit.slice(fixture.audit.length).map((row) => JSON.stringify(row.resultingState));
        if (fixture.record.snapshot && JSON.stringify(fixture.record.snapshot).includes('"inFlight"')) {
          expect(states.some((state) => state.includes('cancelOrderInFlight'))).toBe(true);
        }
        expect(states.some((state) => state.includes('"inFlight"'))).toBe(false);
      } finally {
        await runtime.close();
      }
    },
  );

  it('INV4: a workflow stored by an unknown machine version is a typed error, and nothing is written', async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    const fixture = fixtures.find((candidate) => candidate.name === 'awaiting-merchant-choice')!;
    await storeFixture(store, { ...fixture, record: { ...fixture.record, machineVersion: ORDER_MACHINE_VERSION + 5 } });
    const runtime = createWorkflowRuntime({
      store,
      clock: { now: () => fixture.record.updatedAt },
      payments: createSandboxPayments(),
      logistics: createSandboxLogistics(),
    });
    try {
      const before = await store.load(fixture.record.workflowId);
      await expect(
        runtime.dispatch({
          workflowId: fixture.record.workflowId,
          commandId: 'c-1',
          event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' },
        }),
      ).rejects.toThrow(UnknownMachineVersionError);
      await expect(runtime.getWorkflow(PLATFORM, fixture.record.workflowId)).rejects.toMatchObject({ code: 'UNKNOWN_MACHINE_VERSION' });
      expect(await store.load(fixture.record.workflowId)).toEqual(before);
    } finally {
      await runtime.close();
    }
  });

  it('INV5: the rename is a real break: the new machine cannot take the old snapshot unmigrated', () => {
    const fixture = fixtures.find((candidate) => candidate.name === 'intercept-window')!;
    expect(() => new LiveSystem(renamedMachine, { snapshot: fixture.record.snapshot }).stop()).toThrow();
    const migrated = upgradeSnapshot(nextRelease, fixture.name, fixture.record.snapshot, ORDER_MACHINE_VERSION);
    const system = new LiveSystem(renamedMachine, { snapshot: migrated });
    expect(system.snapshot().value).toEqual({ dispute: 'open', cancellation: 'cancelOrderInFlight' });
    system.stop();
  });

  it('INV4: a release without the migration step refuses the older snapshot with a typed error', async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    const fixture = fixtures.find((candidate) => candidate.name === 'intercept-window')!;
    await storeFixture(store, fixture);
    const runtime = createWorkflowRuntime({
      store,
      clock: { now: () => fixture.record.updatedAt },
      payments: createSandboxPayments(),
      logistics: createSandboxLogistics(),
      definition: { ...nextRelease, migrations: {} },
    });
    try {
      await expect(runtime.getWorkflow(PLATFORM, fixture.record.workflowId)).rejects.toThrow(UnknownMachineVersionError);
    } finally {
      await runtime.close();
    }
  });
});

describe("the previous release's workflows (v2 fixtures) under this release (INV5 across releases)", () => {
  const previous = loadFixtures(2);

  it('INV5: the v2 fixtures are all there (they are never regenerated)', () => {
    expect(previous.map((fixture) => fixture.name).sort()).toEqual([
      'awaiting-customer-confirmation',
      'awaiting-merchant-choice',
      'awaiting-platform-ruling',
      'intercept-window',
      'intercepting',
      'refund-backing-off',
    ]);
    expect(previous.every((fixture) => fixture.record.machineVersion === 2)).toBe(true);
  });

  it.each(previous.map((fixture) => [fixture.name, fixture] as const))(
    'INV5: %s, stored by v2, migrates to the default policy and runs to completion with one refund',
    async (_name, fixture) => {
      const { store, clock, payments, runtime } = await runtimeOnFixture(fixture);
      try {
        await runToCompletion(runtime, clock, fixture.record.workflowId);
        const view = await runtime.getWorkflow(PLATFORM, fixture.record.workflowId);
        expect(view.status).toBe('done');
        expect(view.output).toMatchObject({ refunded: true });
        expect(payments.executions()).toHaveLength(1);
        const record = await store.load(fixture.record.workflowId);
        expect(record?.machineVersion).toBe(ORDER_MACHINE_VERSION);
        const context = (record!.snapshot as { context: { policy: unknown } }).context;
        expect(context.policy).toEqual(DEFAULT_POLICY);
      } finally {
        await runtime.close();
      }
    },
  );

  it('INV5: the v2 → v3 step gives the order and every child the default policy and changes nothing else', () => {
    const fixture = previous.find((candidate) => candidate.name === 'intercepting')!;
    const original = structuredClone(fixture.record.snapshot) as {
      context: Record<string, unknown>;
      children: Record<string, { snapshot: { context: Record<string, unknown> } }>;
    };
    const migrated = ORDER_SNAPSHOT_MIGRATIONS[2]!(structuredClone(original)) as typeof original;
    expect(migrated.context.policy).toEqual(DEFAULT_POLICY);
    for (const child of Object.values(migrated.children)) expect(child.snapshot.context.policy).toEqual(DEFAULT_POLICY);
    // D6 ownCancelOrder: the order's new field, empty (no ruling waits for its own cancel order)
    const { policy: _policy, pendingRulingRefund, ...rest } = migrated.context;
    expect(pendingRulingRefund).toBeNull();
    expect(rest).toEqual(original.context);
  });
});
