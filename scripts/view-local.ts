/**
 * `npm run inspect -- --local [--port 8080] [--no-open] [--sqlite FILE | --pg URL]`: the self-hosted
 * statechart view, nothing loaded from the internet. Orders run on the durable runtime (a memory store
 * by default) with the policy's deadlines shortened to seconds and sandbox logistics and payments that
 * answer by themselves; the live page shows every workflow as it moves, and the replay page opens any
 * of them from the store afterwards. Ctrl-C stops it.
 */
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type WorkflowStore,
} from '../src/runtime/index.js';
import type { TimerSettings } from '../src/schemas/timers.js';
import { startStatechartView, type RunningStatechartView } from '../src/view/index.js';
import type { OrderEventInput } from '../src/schemas/events.js';

/** Every deadline of the policy, shortened to seconds. */
export const LOCAL_TIMERS: Partial<TimerSettings> = {
  interceptWindow: 5_000,
  merchantResponseWindow: 30_000,
  customerConfirmationWindow: 8_000,
  interceptResultWait: 8_000,
  refundRetryBackoff: 1_000,
};

const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const;
const CUSTOMER = { role: 'customer', id: 'customer-1' } as const;

export interface LocalViewOptions {
  port?: number;
  sqlite?: string;
  pg?: string;
  log?: (line: string) => void;
  /** Rounds to play (default: until stopped). */
  rounds?: number;
}

export interface LocalView {
  view: RunningStatechartView;
  /** Resolves when the requested rounds are played. */
  played: Promise<void>;
  stop(): Promise<void>;
}

async function openStore(options: LocalViewOptions): Promise<WorkflowStore> {
  if (options.pg) {
    const { createPostgresStore } = await import('../src/runtime/postgres.js');
    const store = createPostgresStore({ connectionString: options.pg });
    await store.migrate();
    return store;
  }
  const store = options.sqlite ? createSqliteStore({ filename: options.sqlite }) : createMemoryStore();
  await store.migrate();
  return store;
}

export async function startLocalView(options: LocalViewOptions = {}): Promise<LocalView> {
  const log = options.log ?? ((line: string) => console.log(line));
  const store = await openStore(options);
  const view = await startStatechartView({ port: options.port ?? 0, store, title: 'jd-dispute-statecharts' });
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => Date.now() },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    inspectWorkflow: view.inspectWorkflow,
    pollIntervalMs: 200,
    onError: (error, context) => log(`  ${context}: ${(error as Error).message}`),
  });
  runtime.start();
  let stopped = false;
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const round = async (n: number) => {
    const jd = n % 2 === 1;
    const { workflowId } = await runtime.openOrder({
      workflowId: `order-${n}-${Date.now().toString(36)}`,
      input: {
        orderId: `order-${n}`,
        merchantId: MERCHANT.id,
        customerId: CUSTOMER.id,
        deliveredBy: jd ? 'JD' : 'MERCHANT',
        shipped: jd,
        timers: LOCAL_TIMERS,
      },
    });
    log(`${workflowId}: ${jd ? 'JD-delivered, shipped' : 'merchant-delivered'}; the 48H window is ${LOCAL_TIMERS.interceptWindow} ms here`);
    let command = 0;
    const dispatch = async (event: OrderEventInput) => {
      await pause(1_000);
      if (!stopped) await runtime.dispatch({ workflowId, commandId: `${workflowId}:${(command += 1)}`, event });
    };
    await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId: `dispute-${n}` });
    await dispatch({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
    await dispatch({ type: 'customer.settlementConfirmed', by: CUSTOMER });
    while (!stopped && (await runtime.getWorkflow({ role: 'platform', id: 'view-local' }, workflowId)).status !== 'done') await pause(250);
    if (!stopped) log(`${workflowId} done; replay it: ${view.url}replay?workflow=${encodeURIComponent(workflowId)}`);
  };

  const played = (async () => {
    for (let n = 1; !stopped && (options.rounds === undefined || n <= options.rounds); n += 1) {
      await round(n);
      await pause(2_000);
    }
  })().catch((error: unknown) => {
    if (!stopped) log(`scenario stopped: ${(error as Error).message}`);
  });

  return {
    view,
    played,
    stop: async () => {
      stopped = true;
      await runtime.close();
      await view.stop();
    },
  };
}
