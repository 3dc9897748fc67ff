import { WrongRoleError } from './errors.js';
import type { OrderParties } from './roles.js';
import { Sender, type Role } from './schemas/common.js';

/**
 * R1 (DOMAIN.md): every read names its caller, as every event does, and gets only what that party may
 * see. A read outside these limits is refused with WrongRoleError, never answered with an empty success.
 *
 * - Orders: a merchant its own, a customer its own, the platform and `system` all.
 * - Evidence proofs (file ids, sizes) and the explanation: the platform and the party who submitted them
 *   (the merchant for a plan's evidence, the appealing side for an appeal's, A1); the other party (and
 *   `system`) see the evidence reason and that evidence was given.
 * - D9's refusal log (refusalLog 'separate'): the platform and `system` every refused attempt on the
 *   order; its merchant and its customer only the attempts made in their own name (the sender role and id
 *   the attempt carried), never another party's.
 * - Another party's internal ids: the platform only. Each id belongs to a party: payment references,
 *   worker, adapter and runtime command ids to `system`; the ids of platform staff (who ruled, who
 *   opened a dispute) to the platform; a client's command ids to the sender. The order's own parties
 *   (its merchant and its customer) are named to everyone who may read the order.
 *
 * Whatever a caller may not see reads as null.
 */
export const VISIBILITY: Readonly<Record<VisibilityRow, Readonly<Record<Role, Visible>>>> = {
  orders: { customer: 'own', merchant: 'own', platform: 'all', system: 'all' },
  evidenceReason: { customer: 'yes', merchant: 'yes', platform: 'yes', system: 'yes' },
  evidenceDetails: { customer: 'own', merchant: 'own', platform: 'yes', system: 'no' },
  partyIds: { customer: 'yes', merchant: 'yes', platform: 'yes', system: 'yes' },
  platformIds: { customer: 'no', merchant: 'no', platform: 'yes', system: 'no' },
  systemIds: { customer: 'no', merchant: 'no', platform: 'yes', system: 'yes' },
  clientCommandIds: { customer: 'own', merchant: 'own', platform: 'yes', system: 'no' },
  refusals: { customer: 'own', merchant: 'own', platform: 'all', system: 'all' },
};

/** The rows of the R1 table (docs/hosting.md shows it). */
export type VisibilityRow =
  | 'orders'
  | 'evidenceReason'
  | 'evidenceDetails'
  | 'partyIds'
  | 'platformIds'
  | 'systemIds'
  | 'clientCommandIds'
  | 'refusals';

/** `own`: only what belongs to the caller (its orders, its own commands, the evidence it submitted). */
export type Visible = 'yes' | 'no' | 'own' | 'all';

/** A refused read: WrongRoleError (code WRONG_ROLE), whose `eventType` names the read. */
export function readRefused(read: string, role: string, id: string, detail: string): WrongRoleError {
  const error = new WrongRoleError(read, role, id, detail);
  error.message = `${role} ${id} may not read ${read}: ${detail}`;
  return error;
}

/** The caller of a read, parsed at the boundary: anything but a Sender is nobody, and refused. */
export function parseCaller(caller: unknown, read: string): Sender {
  const parsed = Sender.safeParse(caller);
  if (!parsed.success) throw readRefused(read, 'nobody', '-', 'a read names its caller: { role, id }');
  return parsed.data;
}

/** R1: a merchant reads its own orders, a customer its own, the platform and system every order. */
export function assertMayReadOrder(caller: Sender, parties: OrderParties, read: string): void {
  if (caller.role === 'merchant' && caller.id !== parties.merchantId) {
    throw readRefused(read, caller.role, caller.id, "this is another merchant's order");
  }
  if (caller.role === 'customer' && caller.id !== parties.customerId) {
    throw readRefused(read, caller.role, caller.id, "this is another customer's order");
  }
}

/**
 * R1 for listings: a merchant lists its own orders, a customer its own. The caller's own id is the
 * filter; naming another party's is refused (never an empty page).
 */
export function scopeListing<Filter extends { merchantId?: string; customerId?: string }>(caller: Sender, filter: Filter, read: string): Filter {
  if (caller.role === 'merchant') {
    if (filter.merchantId !== undefined && filter.merchantId !== caller.id) {
      throw readRefused(read, caller.role, caller.id, "it names another merchant's orders");
    }
    return { ...filter, merchantId: caller.id };
  }
  if (caller.role === 'customer') {
    if (filter.customerId !== undefined && filter.customerId !== caller.id) {
      throw readRefused(read, caller.role, caller.id, "it names another customer's orders");
    }
    return { ...filter, customerId: caller.id };
  }
  return filter;
}

/**
 * Evidence proofs and the explanation: the platform, and the party who submitted them (the caller reads
 * only its own orders, so its role names the submitter: the merchant's plan, either side's appeal).
 */
export function maySeeEvidenceDetails(caller: Sender, submitter: { role: string }): boolean {
  const rule = VISIBILITY.evidenceDetails[caller.role];
  return rule === 'yes' || (rule === 'own' && caller.role === submitter.role);
}

/** Payment references and the ids of workers, adapters and runtime commands. */
export const maySeeSystemIds = (caller: Sender): boolean => VISIBILITY.systemIds[caller.role] === 'yes';

/** Whether the caller may see the id of this actor (the sender of an event, the trigger of a refund). */
export function maySeeActorId(caller: Sender, actor: { role: string }): boolean {
  if (actor.role === 'merchant' || actor.role === 'customer') return VISIBILITY.partyIds[caller.role] === 'yes';
  if (actor.role === 'platform') return VISIBILITY.platformIds[caller.role] === 'yes';
  return maySeeSystemIds(caller);
}

/** Whether the caller may see the command id under which this actor's event was accepted. */
export function maySeeCommandId(caller: Sender, actor: { role: string; id: string }): boolean {
  if (actor.role === 'system') return maySeeSystemIds(caller);
  const rule = VISIBILITY.clientCommandIds[caller.role];
  return rule === 'yes' || (rule === 'own' && caller.role === actor.role && caller.id === actor.id);
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * An accepted event (JSON) as the caller may see it: the sender's id, evidence proofs and explanation,
 * and payment references become null where R1 hides them. Other fields are kept as they are.
 */
export function redactEvent(caller: Sender, event: unknown): unknown {
  if (!isRecord(event)) return event;
  const visible: Record<string, unknown> = { ...event };
  if (isRecord(event.by) && typeof event.by.role === 'string' && !maySeeActorId(caller, { role: event.by.role })) {
    visible.by = { ...event.by, id: null };
  }
  const submitter = isRecord(event.by) && typeof event.by.role === 'string' ? { role: event.by.role } : { role: 'unknown' };
  if (isRecord(event.evidence) && !maySeeEvidenceDetails(caller, submitter)) {
    visible.evidence = { ...event.evidence, proofs: null, explanation: null };
  }
  if ('paymentRef' in event && !maySeeSystemIds(caller)) visible.paymentRef = null;
  return visible;
}

/**
 * D9: the refusals of an order (`Refusal` rows, oldest first) the caller may see: all for the platform and
 * `system`, a merchant's or customer's own attempts for them (the caller may read the order: checked
 * before). Sender ids follow the rows above (a platform agent's id only for the platform).
 */
export function visibleRefusals<Row extends { role: string | null; actorId: string | null }>(caller: Sender, rows: readonly Row[]): Row[] {
  const mine = (row: Row) => row.role === caller.role && row.actorId === caller.id;
  const visible = VISIBILITY.refusals[caller.role] === 'all' ? rows : rows.filter(mine);
  return visible.map((row) =>
    row.role !== null && row.actorId !== null && !maySeeActorId(caller, { role: row.role }) ? { ...row, actorId: null } : { ...row },
  );
}
