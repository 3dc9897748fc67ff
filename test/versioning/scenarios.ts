import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  type WorkflowRuntime,
} from '../../src/runtime/index.js';
import type { AuditRow, DeadlineRow, OutboxRow, WorkflowRecord, WorkflowStore } from '../../src/runtime/store.js';
import type { OrderEventInput } from '../../src/schemas/events.js';
import type { Plan } from '../../src/schemas/common.js';

/**
 * Orders stopped half-way, the way a release leaves them in flight: each scenario drives a workflow
 * through the durable runtime to an interesting point. `npm run fixtures:snapshots` stores them as this
 * release's persisted workflows (test/fixtures/snapshots/v<version>/), which later releases must
 * restore (through their migrations) and run to completion.
 */

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
export const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const;
export const CUSTOMER = { role: 'customer', id: 'customer-1' } as const;
export const PLATFORM = { role: 'platform', id: 'cs-1' } as const;
export const EVIDENCE = {
  reason: 'GOODS_ALREADY_SHIPPED',
  proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'receipt-1.jpg', sizeBytes: 120_000 }],
  explanation: 'The parcel left our warehouse before the cancellation request.',
} as const;

/** A stored workflow with every row that belongs to it. */
export interface WorkflowFixture {
  name: string;
  description: string;
  record: WorkflowRecord;
  audit: AuditRow[];
  deadlines: DeadlineRow[];
  outbox: OutboxRow[];
}

interface Driver {
  runtime: WorkflowRuntime;
  clock: { time: number };
  send(workflowId: string, event: OrderEventInput): Promise<unknown>;
}

interface Scenario {
  name: string;
  description: string;
  deliveredBy: 'JD' | 'MERCHANT';
  shipped?: boolean;
  /** Logistics answers later (the interception stays in flight). */
  asyncLogistics?: boolean;
  declineRefunds?: number;
  run(driver: Driver, workflowId: string): Promise<void>;
}

const openDispute = (d: Driver, id: string) => d.send(id, { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' });
const plan = (d: Driver, id: string, name: Plan, extra: Pick<Extract<OrderEventInput, { type: 'merchant.planSubmitted' }>, 'evidence'> = {}) =>
  d.send(id, { type: 'merchant.planSubmitted', by: MERCHANT, plan: name, ...extra });

export const SCENARIOS: Scenario[] = [
  {
    name: 'awaiting-merchant-choice',
    description: 'D1: a dispute waits for the merchant, the merchant response window running',
    deliveredBy: 'MERCHANT',
    run: async (d, id) => {
      await openDispute(d, id);
    },
  },
  {
    name: 'awaiting-customer-confirmation',
    description: 'D3/P2: NEGOTIATED_REJECT waits for the customer, with the customer pending cancel order',
    deliveredBy: 'MERCHANT',
    run: async (d, id) => {
      await d.send(id, { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' });
      await openDispute(d, id);
      await plan(d, id, 'NEGOTIATED_REJECT');
    },
  },
  {
    name: 'intercept-window',
    description: 'P3: the 48H plan on a shipped JD order, 物流待跟进 with the window running',
    deliveredBy: 'JD',
    shipped: true,
    run: async (d, id) => {
      await openDispute(d, id);
      await plan(d, id, 'WAIT_48H_INTERCEPT');
    },
  },
  {
    name: 'intercepting',
    description: 'P3b: the window ended, 通过并拦截, the interception in flight',
    deliveredBy: 'JD',
    shipped: true,
    asyncLogistics: true,
    run: async (d, id) => {
      await openDispute(d, id);
      await plan(d, id, 'WAIT_48H_INTERCEPT');
      d.clock.time += 48 * HOUR;
      await d.runtime.tick();
    },
  },
  {
    name: 'refund-backing-off',
    description: 'C4: the direct refund was declined once and waits for its retry',
    deliveredBy: 'MERCHANT',
    declineRefunds: 1,
    run: async (d, id) => {
      await openDispute(d, id);
      await plan(d, id, 'DIRECT_REFUND');
      await d.runtime.tick();
    },
  },
  {
    name: 'awaiting-platform-ruling',
    description: 'D4: the evidence plan waits for the platform',
    deliveredBy: 'MERCHANT',
    run: async (d, id) => {
      await openDispute(d, id);
      await plan(d, id, 'PLATFORM_RULING', { evidence: EVIDENCE });
    },
  },
];

async function dump(store: WorkflowStore, name: string, description: string, workflowId: string): Promise<WorkflowFixture> {
  const record = await store.load(workflowId);
  if (!record) throw new Error(`no workflow ${workflowId}`);
  return {
    name,
    description,
    record,
    audit: await store.listAudit(workflowId),
    deadlines: await store.listDeadlines(workflowId),
    outbox: (await store.listOutbox(workflowId)).filter((row) => row.status === 'pending'),
  };
}

/** Runs every scenario on this release and returns the stored workflows. */
export async function captureFixtures(): Promise<WorkflowFixture[]> {
  const fixtures: WorkflowFixture[] = [];
  for (const scenario of SCENARIOS) {
    const store = createMemoryStore();
    const clock = { time: T0 };
    const payments = createSandboxPayments({ declineAttempts: scenario.declineRefunds ?? 0 });
    const logistics = createSandboxLogistics(scenario.asyncLogistics ? { outcome: 'accepted' } : {});
    const runtime = createWorkflowRuntime({ store, clock: { now: () => clock.time }, payments, logistics });
    let command = 0;
    const driver: Driver = {
      runtime,
      clock,
      send: (workflowId, event) => runtime.dispatch({ workflowId, commandId: `c-${(command += 1)}`, event }),
    };
    const workflowId = scenario.name;
    await runtime.openOrder({
      workflowId,
      input: {
        orderId: workflowId,
        merchantId: MERCHANT.id,
        customerId: CUSTOMER.id,
        deliveredBy: scenario.deliveredBy,
        shipped: scenario.shipped ?? false,
      },
    });
    await scenario.run(driver, workflowId);
    fixtures.push(await dump(store, scenario.name, scenario.description, workflowId));
    await runtime.close();
  }
  return fixtures;
}
