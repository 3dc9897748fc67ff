/**
 * `npm run inspect [-- --port 8080] [-- --no-open]`: a live scenario in the Stately inspector.
 * `npm run inspect -- --local`: the same kind of scenario in the self-hosted view (no internet needed).
 *
 * Starts the inspector relay on 127.0.0.1, opens the browser (unless --no-open or CI is set), then plays
 * the 48H-interception plan again and again on an accelerated clock: the 48H window lasts a few seconds,
 * so the dispute, the cancel order and the deadline can be watched as they move. Ctrl-C stops it.
 */
import { spawn } from 'node:child_process';
import { platform } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { connectWebSocketInspector, startInspectorServer, type InspectorServer, type LiveInspector } from '../src/inspect.js';
import { disputeStatusLabel, cancellationStatusLabel } from '../src/labels.js';
import type { DeliveredBy, Sender } from '../src/schemas/common.js';
import type { WorkflowEffect } from '../src/schemas/effects.js';
import type { TimerSettings } from '../src/schemas/timers.js';
import { createOrderWorkflow, type OrderWorkflow } from '../src/workflow.js';
import type { OrderEventInput } from '../src/schemas/events.js';

/** The accelerated clock: every deadline of the policy, shortened to seconds. */
export const LIVE_TIMERS: Partial<TimerSettings> = {
  interceptWindow: 5_000, // the notice's 48H
  merchantResponseWindow: 30_000,
  customerConfirmationWindow: 8_000,
  interceptResultWait: 8_000,
  refundRetryBackoff: 1_000,
};

const MERCHANT: Sender = { role: 'merchant', id: 'merchant-1' };
const CUSTOMER: Sender = { role: 'customer', id: 'customer-1' };
const LOGISTICS: Sender = { role: 'system', id: 'jd-logistics' };
const PAYMENTS: Sender = { role: 'system', id: 'payments' };

export interface LiveScenarioOptions {
  inspect: LiveInspector['inspect'];
  log?: (line: string) => void;
  timers?: Partial<TimerSettings>;
}

/**
 * Plays rounds until stopped: a customer opens a dispute, the merchant chooses "wait 48H for
 * interception", the customer confirms, the 48H window ends (P3a for a merchant-delivered order, P3b with
 * a JD interception for a JD-delivered one), and the payment service confirms the refund.
 */
export function startLiveScenario(options: LiveScenarioOptions): { stop(): void } {
  const log = options.log ?? ((line: string) => console.log(line));
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const workflows = new Set<OrderWorkflow>();
  let stopped = false;

  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) action();
    }, ms);
    timers.add(timer);
  };

  const round = (n: number) => {
    const deliveredBy: DeliveredBy = n % 2 === 1 ? 'MERCHANT' : 'JD';
    const orderId = `order-${n}`;
    const disputeId = `dispute-${n}`;
    let last = '';
    const report = (workflow: OrderWorkflow) => {
      const regions = Object.entries(workflow.getSnapshot().value).map(([region, state]) => `${region}=${state}`);
      const parts = [`${orderId} (${deliveredBy}) ${regions.join(' ')}`];
      for (const dispute of workflow.disputes()) {
        parts.push(`${dispute.disputeId} ${dispute.status} ${disputeStatusLabel(dispute.status)}`);
      }
      for (const order of workflow.cancelOrders()) {
        parts.push(`${order.cancellationId} ${order.status} ${cancellationStatusLabel(order.status)}`);
      }
      const line = parts.join(' | ');
      if (line !== last) log(line);
      last = line;
    };
    const onEffect = (effect: WorkflowEffect) => {
      if (effect.type === 'effect.interceptionRequested') {
        log(`  JD logistics intercepts ${effect.cancellationId}`);
        later(1_500, () => send({ type: 'logistics.interceptSucceeded', by: LOGISTICS, cancellationId: effect.cancellationId }));
      }
      if (effect.type === 'effect.refundRequested') {
        log(`  payment service refunds ${effect.cancellationId} (trigger: ${effect.trigger.kind})`);
        later(1_000, () =>
          send({ type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: effect.cancellationId, paymentRef: `pay-${n}` }),
        );
      }
    };
    const workflow = createOrderWorkflow(
      {
        orderId,
        merchantId: MERCHANT.id,
        customerId: CUSTOMER.id,
        deliveredBy,
        shipped: deliveredBy === 'JD',
        at: Date.now(),
        timers: options.timers ?? LIVE_TIMERS,
      },
      {
        inspect: (event) => {
          options.inspect.next?.(event);
          if (event.type !== '@xstate.snapshot') return;
          if (event.event.type.startsWith('xstate.after.')) {
            // the children run under fixed ids (`dispute`, `cancellation`): name the dispute or cancel order itself
            const { cancellationId, disputeId } =
              (event.snapshot as { context?: { cancellationId?: string; disputeId?: string } }).context ?? {};
            log(
              `  deadline ${event.event.type.split('.')[2]} fired for ${cancellationId ?? disputeId ?? String(Reflect.get(event.actorRef, 'id'))}`,
            );
          }
          later(0, () => report(workflow));
        },
        onEffect: (effect) => onEffect(effect),
      },
    );
    workflows.add(workflow);
    const send = (event: OrderEventInput) => {
      try {
        // The host stamps the event with its own clock: a caller's `at` a millisecond behind it would be back-dated.
        workflow.send(event);
      } catch (error) {
        log(`  ${String(event.type)} refused: ${(error as Error).message}`);
        return;
      }
      if (workflow.getSnapshot().status === 'done') {
        log(`${orderId} closed: refunded by ${workflow.getSnapshot().output?.refundedBy ?? 'nobody'}`);
        workflow.stop();
        workflows.delete(workflow);
        later(2_000, () => round(n + 1));
      }
    };
    later(500, () => send({ type: 'dispute.opened', by: CUSTOMER, disputeId }));
    later(1_500, () => {
      log(`  merchant chooses WAIT_48H_INTERCEPT: the 48H window is ${(options.timers ?? LIVE_TIMERS).interceptWindow} ms here`);
      send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
    });
    later(2_500, () => send({ type: 'customer.settlementConfirmed', by: CUSTOMER }));
  };

  round(1);
  return {
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const workflow of workflows) workflow.stop();
      workflows.clear();
    },
  };
}

function openBrowser(url: string, log: (line: string) => void): void {
  const [command, args] =
    platform() === 'darwin' ? ['open', [url]] : platform() === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => log(`Could not run ${command}; open ${url} yourself.`));
  child.unref();
}

/** `--local`: the self-hosted view (scripts/view-local.ts) until Ctrl-C. */
async function runLocalView(options: { port: number; open: boolean; sqlite?: string | undefined; pg?: string | undefined }): Promise<void> {
  const { startLocalView } = await import('./view-local.js');
  const local = await startLocalView({
    port: options.port,
    ...(options.sqlite ? { sqlite: options.sqlite } : {}),
    ...(options.pg ? { pg: options.pg } : {}),
  });
  console.log(`Statechart view: ${local.view.url} (bound to ${local.view.host} only; every script and style is served from this package)`);
  console.log(`Replay a stored workflow: ${local.view.url}replay?workflow=<workflowId>`);
  if (options.open) openBrowser(local.view.url, console.log);
  const stop = () => {
    console.log('\nStopping…');
    void local.stop().then(() => console.log('Stopped.'));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      'no-open': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      local: { type: 'boolean', default: false },
      sqlite: { type: 'string' },
      pg: { type: 'string' },
    },
  });
  if (values.local && !values.help) {
    await runLocalView({ port: Number(values.port), open: !values['no-open'] && !process.env.CI, sqlite: values.sqlite, pg: values.pg });
    return;
  }
  if (values.help) {
    console.log('npm run inspect [-- --port <port>] [-- --no-open]   (CI=1 also keeps the browser closed)');
    console.log('npm run inspect -- --local [--port <port>] [--no-open] [--sqlite FILE | --pg URL]   self-hosted view, no internet');
    return;
  }
  // Ctrl-C may come at any moment, also while starting: stop whatever has started so far.
  let server: InspectorServer | undefined;
  let client: LiveInspector | undefined;
  let scenario: { stop(): void } | undefined;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping the scenario, the inspector client and the server…');
    scenario?.stop();
    await client?.close();
    await server?.close();
    console.log('Stopped.');
    // Everything is closed and the process ends by itself; if anything is still open, say so and leave.
    setTimeout(() => {
      console.error(`forced exit: still open: ${process.getActiveResourcesInfo().join(', ')}`);
      process.exit(0);
    }, 1_500).unref();
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  try {
    server = await startInspectorServer({ port: Number(values.port) });
    console.log(`Stately inspector: ${server.url}`);
    console.log('  (that page embeds https://stately.ai/inspect: the browser needs internet access)');
    console.log(`WebSocket relay: ${server.wsUrl} (bound to ${server.host} only)`);
    if (!values['no-open'] && !process.env.CI) openBrowser(server.url, console.log);
    client = await connectWebSocketInspector(server.wsUrl);
  } catch (error) {
    stopping = true;
    await server?.close();
    throw error;
  }
  if (stopping) {
    // interrupted while starting: stop() ran before these existed
    await client.close();
    await server.close();
    return;
  }
  scenario = startLiveScenario({ inspect: client.inspect });
  console.log('Playing the 48H-interception plan on an accelerated clock. Press Ctrl-C to stop.');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
