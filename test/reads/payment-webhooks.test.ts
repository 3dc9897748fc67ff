import { describe, expect, it } from 'vitest';
import {
  createSandboxPayments,
  PAYMENT_SIGNATURE_HEADER,
  signPaymentWebhook,
  verifyPaymentWebhook,
  type PaymentWebhookBody,
} from '../../src/runtime/sandbox-adapters.js';

const request = {
  at: 0,
  orderId: 'o-1',
  cancellationId: 'd-1:direct-refund',
  idempotencyKey: 'o-1/d-1:direct-refund/1',
  attempt: 1,
  reason: 'DIRECT_REFUND_DISPUTE_PLAN',
  trigger: { kind: 'disputePlan', by: { role: 'merchant', id: 'm-1' }, at: 0 },
} as const;
const call = { signal: new AbortController().signal };

describe('sandbox payment webhooks', () => {
  it('with a webhook secret a refund answers accepted and its result waits as a body signed with HMAC-SHA256', async () => {
    const payments = createSandboxPayments({ webhookSecret: 'shh' });

    expect(await payments.refund(request, call)).toEqual({ status: 'accepted' });
    expect(await payments.refund(request, call)).toEqual({ status: 'accepted' }); // a repeated key: the same result, again by webhook

    const webhooks = payments.takeWebhooks();
    expect(payments.takeWebhooks()).toEqual([]);
    expect(payments.executionCount()).toBe(1);
    expect(webhooks).toHaveLength(2);
    const body = JSON.parse(webhooks[0]!.body) as PaymentWebhookBody;
    expect(body).toEqual({
      type: 'refund.succeeded',
      orderId: 'o-1',
      cancellationId: 'd-1:direct-refund',
      idempotencyKey: 'o-1/d-1:direct-refund/1',
      paymentRef: 'sandbox-pay-o-1/d-1:direct-refund/1',
    });
    expect(webhooks[0]!.signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(webhooks[0]!.signature).toBe(signPaymentWebhook('shh', webhooks[0]!.body));
    expect(PAYMENT_SIGNATURE_HEADER).toBe('x-sandbox-signature');
  });

  it('verifies only the exact body under the same secret; anything else is refused', () => {
    const body = JSON.stringify({ type: 'refund.succeeded', orderId: 'o-1' });
    const signature = signPaymentWebhook('shh', body);

    expect(verifyPaymentWebhook('shh', body, signature)).toBe(true);
    expect(verifyPaymentWebhook('other', body, signature)).toBe(false);
    expect(verifyPaymentWebhook('shh', `${body} `, signature)).toBe(false);
    expect(verifyPaymentWebhook('shh', body, signature.slice(0, -1))).toBe(false);
    expect(verifyPaymentWebhook('shh', body, undefined)).toBe(false);
    expect(verifyPaymentWebhook('shh', body, ['v1=00'])).toBe(false);
  });

  it('without a secret the sandbox answers at once and keeps no webhooks', async () => {
    const payments = createSandboxPayments();
    expect(await payments.refund(request, call)).toEqual({ status: 'succeeded', paymentRef: 'sandbox-pay-o-1/d-1:direct-refund/1' });
    expect(payments.takeWebhooks()).toEqual([]);
  });
});
