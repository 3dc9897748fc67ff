/**
 * A parallel workflow whose regions end in final states: the parallel state's `onDone` fires when
 * payment and shipping are both final; cancelling leaves from any combination.
 *
 * Hand count (key: value)
 * - states 11: checkout, processing, payment, unpaid, paid, shipping, packing, packed, shipped,
 *   complete, cancelled
 * - transitions 5: payment.succeeded (P), shipping.packed (K), shipping.shipped (S),
 *   processing onDone (D), order.cancelled (C)
 * - vertices 7: 5 of the 6 combinations of (unpaid|paid) × (packing|packed|shipped) (paid+shipped
 *   leaves at once through onDone), complete, cancelled
 * - pairs 10: P→D and S→D (in one step), P→K, P→S, P→C, K→P, K→S, K→C, S→P, S→C
 * - regions: payment 3 states / 1 transition, shipping 4 states / 2 transitions
 */
import { setup } from 'xstate';

export const checkoutMachine = setup({
  types: {
    events: {} as { type: 'payment.succeeded' } | { type: 'shipping.packed' } | { type: 'shipping.shipped' } | { type: 'order.cancelled' },
  },
}).createMachine({
  id: 'checkout',
  initial: 'processing',
  output: ({ event }) => event.output,
  states: {
    processing: {
      type: 'parallel',
      states: {
        payment: {
          initial: 'unpaid',
          states: {
            unpaid: { on: { 'payment.succeeded': 'paid' } },
            paid: { type: 'final' },
          },
        },
        shipping: {
          initial: 'packing',
          states: {
            packing: { on: { 'shipping.packed': 'packed' } },
            packed: { on: { 'shipping.shipped': 'shipped' } },
            shipped: { type: 'final' },
          },
        },
      },
      onDone: 'complete',
      on: { 'order.cancelled': 'cancelled' },
    },
    complete: { type: 'final', output: { outcome: 'complete' } },
    cancelled: { type: 'final', output: { outcome: 'cancelled' } },
  },
});
