/**
 * A payment service shared by worker processes, as a real one is: every refund that moves money is a
 * row of `refund_executions` (unique idempotency key, so at most one per key whoever asks), and every
 * call is a row of `refund_calls`. Lives in the test's schema, next to the runtime's tables.
 */
import type { Pool } from 'pg';
import type { PaymentService, RefundOutcome } from '../../src/runtime/index.js';

export function paymentTables(schema: string): string {
  const s = `"${schema}"`;
  return `
    CREATE TABLE IF NOT EXISTS ${s}.refund_executions (
      idempotency_key text COLLATE "C" PRIMARY KEY,
      order_id        text NOT NULL,
      cancellation_id text NOT NULL,
      attempt         integer NOT NULL,
      payment_ref     text NOT NULL,
      worker_id       text NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${s}.refund_calls (
      call_id         bigserial PRIMARY KEY,
      idempotency_key text COLLATE "C" NOT NULL,
      worker_id       text NOT NULL,
      result          text NOT NULL CHECK (result IN ('executed', 'deduplicated'))
    );`;
}

export interface SharedPaymentsOptions {
  pool: Pool;
  schema: string;
  workerId: string;
  /** Called after a refund moved money (the row is committed) and before anyone hears of it. */
  afterExecuting?: (executedByThisWorker: number) => void;
}

export function createSharedPayments(options: SharedPaymentsOptions): PaymentService {
  const s = `"${options.schema}"`;
  let executed = 0;
  return {
    async refund(request): Promise<RefundOutcome> {
      const paymentRef = `shared-pay-${request.idempotencyKey}`;
      // The insert is the money movement, committed (autocommit) before the answer, in the same statement
      // as the call's row: a worker SIGKILLed while other refund calls of it are in flight (they run
      // concurrently) leaves no execution without its call.
      const { rows: called } = await options.pool.query<{ result: 'executed' | 'deduplicated' }>(
        `WITH executed AS (
           INSERT INTO ${s}.refund_executions (idempotency_key, order_id, cancellation_id, attempt, payment_ref, worker_id)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1)
         INSERT INTO ${s}.refund_calls (idempotency_key, worker_id, result)
         SELECT $1, $6, CASE WHEN EXISTS (SELECT 1 FROM executed) THEN 'executed' ELSE 'deduplicated' END
         RETURNING result`,
        [request.idempotencyKey, request.orderId, request.cancellationId, request.attempt, paymentRef, options.workerId],
      );
      const result = called[0]!.result;
      if (result === 'executed') {
        executed += 1;
        options.afterExecuting?.(executed);
        return { status: 'succeeded', paymentRef };
      }
      // A repeated key answers the original result (a new statement: it sees the committed row).
      const { rows } = await options.pool.query<{ payment_ref: string }>(
        `SELECT payment_ref FROM ${s}.refund_executions WHERE idempotency_key = $1`,
        [request.idempotencyKey],
      );
      return { status: 'succeeded', paymentRef: rows[0]!.payment_ref };
    },
  };
}
