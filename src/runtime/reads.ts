import { openDisputesOf, severalDisputeActorId, type OrderOutput, type OrderSnapshot } from '../../machines/order.js';
import { allowedActions } from '../allowed-actions.js';
import { upgradeSnapshot, type WorkflowDefinition } from '../engine/definition.js';
import {
  actionLabel,
  CANCELLATION_REASON_LABELS,
  CANCELLATION_STATUS_LABELS,
  DISPUTE_STATUS_LABELS,
  FOLLOW_UP_LABELS,
  PLAN_LABELS,
  ROLE_LABELS,
  timerLabel,
  WORKFLOW_STATUS_LABELS,
  type Label,
} from '../labels.js';
import { cancellationChild, cancelOrderViews, describeValue, disputeChild, disputeViews, merchantFollowUps, statusOf } from '../queries.js';
import type { OrderParties } from '../roles.js';
import type { CancellationReason, CancellationStatus, DisputeStatus, Plan, Role, Sender } from '../schemas/common.js';
import { DisputeStatus as DisputeStatuses } from '../schemas/common.js';
import { ORDER_EVENT_TYPES, type OrderEventType } from '../schemas/events.js';
import type { EvidenceCatalogue } from '../schemas/evidence.js';
import { maySeeActorId, maySeeCommandId, maySeeEvidenceDetails, maySeeSystemIds, redactEvent } from '../visibility.js';
import type { AuditRow, CancelOrderRow, DeadlineRow, DisputeRow, DisputeStatusCount, WorkflowRecord } from './store.js';
import type {
  ActionSubject,
  AllowedActionView,
  AuditEntryView,
  CancelOrderListItem,
  DisputeCounts,
  DisputeListItem,
  DisputeStatusTally,
  EvidenceView,
  WorkflowView,
} from './types.js';

/**
 * The runtime's reads, as one caller may see them (R1, see ../visibility.ts), with the zh-CN and en
 * label of every status and action. Pure functions of what the store returned.
 */

const HOUR = 3_600_000;

/** The parties of a stored workflow, read from its snapshot (no actor is started). */
export function partiesOf(definition: WorkflowDefinition, record: WorkflowRecord): OrderParties {
  const snapshot = upgradeSnapshot(definition, record.workflowId, record.snapshot, record.machineVersion) as {
    context?: { customerId?: unknown };
  };
  const customerId = snapshot.context?.customerId;
  return { merchantId: record.merchantId, customerId: typeof customerId === 'string' ? customerId : '' };
}

const labelOr = <K extends string>(labels: Record<K, Label>, key: string): Label => labels[key as K] ?? { 'zh-CN': key, en: key };

/** Events the order hands to its open dispute. */
const DISPUTE_ACTIONS = new Set<OrderEventType>([
  'merchant.planSubmitted',
  'customer.settlementConfirmed',
  'customer.settlementObjected',
  'customer.disputeWithdrawn',
  'platform.ruled',
]);

/** What the caller may send now, each with its label and the status of what it addresses. */
export function actionViews(snapshot: OrderSnapshot, caller: Sender): AllowedActionView[] {
  const cancellation = cancellationChild(snapshot);
  // D1: the dispute an action is for: the one it names (disputesPerOrder several), else the only one open.
  const disputeSubject = (disputeId: string | undefined): ActionSubject | null => {
    const dispute = disputeChild(snapshot, disputeId);
    const id = disputeId ?? openDisputesOf(snapshot.context)[0]?.disputeId;
    if (!dispute || id === undefined) return null;
    return { kind: 'dispute', id, status: statusOf(dispute), statusLabel: labelOr(DISPUTE_STATUS_LABELS, statusOf(dispute)) };
  };
  return allowedActions(snapshot, caller.role, caller.id).map((action) => {
    let subject: ActionSubject | null = null;
    if (action.cancellationId !== undefined && cancellation) {
      const status = statusOf(cancellation);
      subject = { kind: 'cancellation', id: action.cancellationId, status, statusLabel: labelOr(CANCELLATION_STATUS_LABELS, status) };
    } else if (DISPUTE_ACTIONS.has(action.type) || action.disputeId !== undefined) {
      subject = disputeSubject(action.disputeId);
    }
    return { ...action, label: actionLabel(action.type, action.plan), subject };
  });
}

const isOrderEventType = (type: string): type is OrderEventType => (ORDER_EVENT_TYPES as string[]).includes(type);

/** The label of an audit row: the action's, or for a fired deadline its timer's (… 到期). */
function auditLabel(row: AuditRow): Label {
  const event = (row.event ?? {}) as { plan?: Plan; timer?: string };
  if (isOrderEventType(row.eventType)) return actionLabel(row.eventType, row.eventType === 'merchant.planSubmitted' ? event.plan : undefined);
  if (typeof event.timer === 'string') {
    const timer = timerLabel(event.timer);
    return { 'zh-CN': `${timer['zh-CN']}到期`, en: `${timer.en} elapsed` };
  }
  return { 'zh-CN': row.eventType, en: row.eventType };
}

/** D9 as the caller may see it: ids, evidence details and payment references R1 hides are null. */
export function auditEntries(caller: Sender, rows: readonly AuditRow[]): AuditEntryView[] {
  return rows.map((row) => {
    const actor = { role: row.role, id: row.actorId };
    return {
      workflowId: row.workflowId,
      seq: row.seq,
      at: row.at,
      role: row.role,
      actorId: maySeeActorId(caller, actor) ? row.actorId : null,
      eventType: row.eventType,
      event: redactEvent(caller, row.event),
      resultingState: row.resultingState,
      commandId: row.commandId !== null && maySeeCommandId(caller, actor) ? row.commandId : null,
      label: auditLabel(row),
    };
  });
}

/** The accepted events that carry evidence: an evidence plan (D4) and either side's appeal (A1). */
const EVIDENCE_EVENTS: Readonly<Record<string, EvidenceView['kind']>> = {
  'merchant.planSubmitted': 'plan',
  'merchant.rulingAppealed': 'appeal',
  'customer.rulingAppealed': 'appeal',
};

/**
 * D1 (disputesPerOrder several): an event that names no dispute went to the only open one, which an
 * evidence plan or an appeal leaves open: the one `dispute:<id>` child of the state it resulted in.
 */
function onlySeveralDispute(resultingState: unknown): string | null {
  const prefix = severalDisputeActorId('');
  const ids = Object.keys((resultingState ?? {}) as object).filter((key) => key.startsWith(prefix));
  return ids.length === 1 ? ids[0]!.slice(prefix.length) : null;
}

/**
 * D4, A1: the evidence of every evidence plan and appeal of the order, from the audit trail (D9 keeps
 * every accepted event). Evidence belongs to the dispute the event names, else to the dispute opened last
 * before it (under disputesPerOrder several, the only one open). Proofs and the explanation follow R1: the platform and the side that submitted them.
 */
export function evidenceOf(caller: Sender, audit: readonly AuditRow[], catalogue: EvidenceCatalogue): EvidenceView[] {
  const found: EvidenceView[] = [];
  let lastOpened: string | null = null;
  for (const row of audit) {
    const event = row.event as {
      disputeId?: string;
      evidence?: { reason: string; proofs: EvidenceView['proofs']; explanation: string };
    };
    if (row.eventType === 'dispute.opened' && typeof event.disputeId === 'string') lastOpened = event.disputeId;
    const kind = EVIDENCE_EVENTS[row.eventType];
    const disputeId = typeof event.disputeId === 'string' ? event.disputeId : (onlySeveralDispute(row.resultingState) ?? lastOpened);
    if (kind === undefined || !event.evidence || disputeId === null) continue;
    const submittedBy = row.role as EvidenceView['submittedBy'];
    const details = maySeeEvidenceDetails(caller, { role: submittedBy });
    const spec = catalogue.reasons[event.evidence.reason];
    found.push({
      disputeId,
      kind,
      submittedBy,
      reason: event.evidence.reason,
      reasonLabel: spec ? { 'zh-CN': spec.labelZh, en: spec.labelEn } : { 'zh-CN': event.evidence.reason, en: event.evidence.reason },
      proofs: details ? event.evidence.proofs : null,
      explanation: details ? event.evidence.explanation : null,
      submittedAt: row.at,
    });
  }
  return found;
}

export interface WorkflowViewParts {
  record: WorkflowRecord;
  snapshot: OrderSnapshot;
  deadlines: readonly DeadlineRow[];
  audit: readonly AuditRow[];
  actions: AllowedActionView[];
  catalogue: EvidenceCatalogue;
}

/** One workflow as the caller may see it. */
export function workflowView(caller: Sender, parts: WorkflowViewParts): WorkflowView {
  const { record, snapshot } = parts;
  const systemIds = maySeeSystemIds(caller);
  return {
    workflowId: record.workflowId,
    orderId: record.orderId,
    merchantId: record.merchantId,
    customerId: snapshot.context.customerId,
    version: record.version,
    status: record.status,
    statusLabel: WORKFLOW_STATUS_LABELS[record.status],
    state: describeValue(snapshot),
    lastEventAt: record.lastEventAt,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    disputes: disputeViews(snapshot),
    evidence: evidenceOf(caller, parts.audit, parts.catalogue),
    cancelOrders: cancelOrderViews(snapshot).map((view) => ({
      ...view,
      refundTrigger: view.refundTrigger && {
        ...view.refundTrigger,
        by: { role: view.refundTrigger.by.role, id: maySeeActorId(caller, view.refundTrigger.by) ? view.refundTrigger.by.id : null },
      },
      paymentRef: systemIds ? view.paymentRef : null,
    })),
    deadlines: parts.deadlines.map((row) => ({ ...row, label: timerLabel(row.timer) })),
    followUps: merchantFollowUps(snapshot).map((followUp) => ({ ...followUp, label: FOLLOW_UP_LABELS[followUp.kind] })),
    actions: parts.actions,
    output: (snapshot.output as OrderOutput | undefined) ?? null,
  };
}

const reasonLabel = (reason: string | null): Label | null =>
  reason === null ? null : labelOr(CANCELLATION_REASON_LABELS, reason as CancellationReason);

// Listed rows are built field by field: V8 builds `{ ...row, label }` some 100 times slower (a queue of
// 50 spent most of its time there), and the shape of an answer stays what the type says.

/** X2: a listed cancel order with its labels. */
export function cancelOrderListItem(row: CancelOrderRow): CancelOrderListItem {
  return {
    cancellationId: row.cancellationId,
    workflowId: row.workflowId,
    orderId: row.orderId,
    merchantId: row.merchantId,
    customerId: row.customerId,
    status: row.status,
    reason: row.reason,
    refundReason: row.refundReason,
    origin: row.origin,
    refundTriggerKind: row.refundTriggerKind,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    statusLabel: labelOr(CANCELLATION_STATUS_LABELS, row.status as CancellationStatus),
    reasonLabel: labelOr(CANCELLATION_REASON_LABELS, row.reason),
    refundReasonLabel: reasonLabel(row.refundReason),
  };
}

/** A listed dispute with its labels and its pending deadline. */
export function disputeListItem(row: DisputeRow): DisputeListItem {
  return {
    disputeId: row.disputeId,
    workflowId: row.workflowId,
    orderId: row.orderId,
    merchantId: row.merchantId,
    customerId: row.customerId,
    status: row.status,
    plan: row.plan,
    waitingOn: row.waitingOn,
    nextDueAt: row.nextDueAt,
    nextTimer: row.nextTimer,
    openedAt: row.openedAt,
    updatedAt: row.updatedAt,
    statusLabel: labelOr(DISPUTE_STATUS_LABELS, row.status as DisputeStatus),
    planLabel: row.plan === null ? null : labelOr(PLAN_LABELS, row.plan),
    waitingOnLabel: row.waitingOn === null ? null : labelOr(ROLE_LABELS, row.waitingOn as Role),
    nextDeadline:
      row.nextDueAt === null || row.nextTimer === null ? null : { timer: row.nextTimer, dueAt: row.nextDueAt, label: timerLabel(row.nextTimer) },
  };
}

/** The due times a count asks the store about: now, in an hour, in a day. */
export const countWindows = (at: number): number[] => [at, at + HOUR, at + 24 * HOUR];

/** A dashboard's counts from the store's per-status rows (asked with `countWindows(at)`). */
export function disputeCounts(
  rows: readonly DisputeStatusCount[],
  at: number,
  scope: { merchantId?: string; customerId?: string },
): DisputeCounts {
  const tally = (status: string): DisputeStatusTally => ({
    label: labelOr(DISPUTE_STATUS_LABELS, status),
    count: 0,
    overdue: 0,
    dueWithinHour: 0,
    dueWithinDay: 0,
  });
  const byStatus: Record<string, DisputeStatusTally> = Object.fromEntries(DisputeStatuses.options.map((status) => [status, tally(status)]));
  const total = { count: 0, overdue: 0, dueWithinHour: 0, dueWithinDay: 0 };
  for (const row of rows) {
    const [overdue = 0, dueWithinHour = 0, dueWithinDay = 0] = row.dueBefore;
    byStatus[row.status] = { ...tally(row.status), count: row.count, overdue, dueWithinHour, dueWithinDay };
    total.count += row.count;
    total.overdue += overdue;
    total.dueWithinHour += dueWithinHour;
    total.dueWithinDay += dueWithinDay;
  }
  return { at, merchantId: scope.merchantId ?? null, customerId: scope.customerId ?? null, byStatus, total };
}
