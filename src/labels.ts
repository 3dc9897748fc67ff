import type { CancellationReason, CancellationStatus, DisputeStatus, Plan, Role, Ruling } from './schemas/common.js';
import type { WorkflowEffect } from './schemas/effects.js';
import type { OrderEventType } from './schemas/events.js';
import type { TimerName } from './schemas/timers.js';

/** The languages labels come in. */
export type Locale = 'zh-CN' | 'en';
/** A name shown to people, in Chinese (JD's terms) and English. */
export interface Label {
  'zh-CN': string;
  en: string;
}

/** Labels shown to people; the Chinese ones are the notice's own words (DOMAIN.md glossary). */
export const CANCELLATION_STATUS_LABELS: Record<CancellationStatus, Label> = {
  pendingReview: { 'zh-CN': '待审核', en: 'Pending review' },
  logisticsFollowUp: { 'zh-CN': '物流待跟进', en: 'Logistics follow-up pending' },
  intercepting: { 'zh-CN': '通过并拦截', en: 'Approved, intercepting' },
  interceptFailed: { 'zh-CN': '拦截失败', en: 'Interception failed' },
  refunding: { 'zh-CN': '退款中', en: 'Refunding' },
  refundFailed: { 'zh-CN': '退款失败', en: 'Refund failed' },
  refundOutcomeUnknown: { 'zh-CN': '退款结果待确认', en: 'Refund outcome to be confirmed' },
  refunded: { 'zh-CN': '退款成功', en: 'Refund succeeded' },
  rejected: { 'zh-CN': '驳回', en: 'Rejected' },
  withdrawn: { 'zh-CN': '用户撤销', en: 'Withdrawn by the customer' },
  closedWithoutRefund: { 'zh-CN': '关闭未退款', en: 'Closed without refund' },
};

/** The label of every cancel-order reason. */
export const CANCELLATION_REASON_LABELS: Record<CancellationReason, Label> = {
  CUSTOMER_REQUEST: { 'zh-CN': '用户申请取消', en: "Customer's cancellation request" },
  DIRECT_REFUND_DISPUTE_PLAN: { 'zh-CN': '直接退款纠纷方案', en: 'Direct-refund dispute plan' },
  INTERCEPT_48H_DISPUTE_PLAN: { 'zh-CN': '48H物流拦截退款纠纷方案', en: '48H logistics-interception dispute plan' },
  PLATFORM_RULING_REFUND: { 'zh-CN': '平台判责退款', en: 'Refund ordered by a platform ruling' },
};

/** The label of every dispute status. */
export const DISPUTE_STATUS_LABELS: Record<DisputeStatus, Label> = {
  awaitingMerchantChoice: { 'zh-CN': '待商家选择方案', en: "Awaiting the merchant's plan" },
  awaitingCustomerConfirmation: { 'zh-CN': '待客户确认', en: 'Awaiting customer confirmation' },
  awaitingPlatformRuling: { 'zh-CN': '待平台判责', en: 'Awaiting platform ruling' },
  ruled: { 'zh-CN': '已判责，申诉期内', en: 'Ruled, appeal window open' },
  underAppeal: { 'zh-CN': '申诉中', en: 'Under appeal' },
  compensating: { 'zh-CN': '平台补偿商家中', en: 'Platform compensating the merchant' },
  resolved: { 'zh-CN': '已解决', en: 'Resolved' },
  withdrawn: { 'zh-CN': '用户撤销', en: 'Withdrawn by the customer' },
};

/** The label of every plan. */
export const PLAN_LABELS: Record<Plan, Label> = {
  DIRECT_REFUND: { 'zh-CN': '直接退款', en: 'Direct refund' },
  NEGOTIATED_REJECT: { 'zh-CN': '已协商驳回取消', en: 'Negotiated: reject the cancellation' },
  WAIT_48H_INTERCEPT: { 'zh-CN': '已协商同意等待48H物流拦截', en: 'Negotiated: wait 48H for logistics interception' },
  PLATFORM_RULING: { 'zh-CN': '无法自主处理,需平台介入判责', en: 'Cannot settle: the platform rules on liability' },
};

/** The label of every ruling. */
export const RULING_LABELS: Record<Ruling, Label> = {
  MERCHANT_LIABLE: { 'zh-CN': '商家有责', en: 'Merchant liable' },
  MERCHANT_NOT_LIABLE: { 'zh-CN': '商家无责', en: 'Merchant not liable' },
};

/** What each action does, as a button or an audit line shows it (审核通过 / 驳回 / 强制退款 are the notice's words). */
export const ACTION_LABELS: Record<OrderEventType, Label> = {
  'dispute.opened': { 'zh-CN': '发起纠纷单', en: 'Open a dispute' },
  'cancellation.submitted': { 'zh-CN': '申请取消订单', en: 'Submit a cancel order' },
  'order.shipped': { 'zh-CN': '订单已发货', en: 'Order shipped' },
  'order.completed': { 'zh-CN': '订单已完成', en: 'Order completed' },
  'merchant.planSubmitted': { 'zh-CN': '提交方案', en: 'Submit a plan' },
  'customer.settlementConfirmed': { 'zh-CN': '确认和解方案', en: 'Confirm the settlement' },
  'customer.settlementObjected': { 'zh-CN': '不同意和解方案', en: 'Object to the settlement' },
  'platform.ruled': { 'zh-CN': '平台判责', en: 'Rule on liability' },
  'customer.disputeWithdrawn': { 'zh-CN': '撤销纠纷单', en: 'Withdraw the dispute' },
  'merchant.cancellationApproved': { 'zh-CN': '审核通过', en: 'Approve' },
  'merchant.cancellationRejected': { 'zh-CN': '驳回', en: 'Reject' },
  'merchant.refundForced': { 'zh-CN': '强制退款', en: 'Force a refund' },
  'merchant.closedWithoutRefund': { 'zh-CN': '关闭不退款', en: 'Close without refund' },
  'customer.cancellationWithdrawn': { 'zh-CN': '撤销取消申请', en: 'Withdraw the cancel order' },
  'logistics.interceptSucceeded': { 'zh-CN': '拦截成功', en: 'Interception succeeded' },
  'logistics.interceptFailed': { 'zh-CN': '拦截失败', en: 'Interception failed' },
  'payment.refundSucceeded': { 'zh-CN': '退款成功', en: 'Refund succeeded' },
  'payment.refundFailed': { 'zh-CN': '退款失败', en: 'Refund failed' },
  'platform.refundOutcomeRecorded': { 'zh-CN': '确认退款结果', en: 'Record the refund outcome' },
  'merchant.rulingAppealed': { 'zh-CN': '商家申诉', en: 'Appeal the ruling (merchant)' },
  'customer.rulingAppealed': { 'zh-CN': '用户申诉', en: 'Appeal the ruling (customer)' },
  'platform.appealUpheld': { 'zh-CN': '申诉驳回，维持原判', en: 'Uphold the ruling' },
  'platform.appealOverturned': { 'zh-CN': '申诉成立，改判', en: 'Overturn the ruling' },
  'payment.compensationSucceeded': { 'zh-CN': '补偿成功', en: 'Compensation succeeded' },
  'payment.compensationFailed': { 'zh-CN': '补偿失败', en: 'Compensation failed' },
};

/** The timers a deadline runs on: the host writes "48H 倒计时剩余 …" from the label and the absolute dueAt. */
export const TIMER_LABELS: Record<TimerName, Label> = {
  interceptWindow: { 'zh-CN': '48H物流拦截', en: '48H logistics interception' },
  merchantResponseWindow: { 'zh-CN': '商家处理时限', en: 'Merchant response window' },
  customerConfirmationWindow: { 'zh-CN': '客户确认时限', en: 'Customer confirmation window' },
  interceptResultWait: { 'zh-CN': '拦截结果等待', en: 'Interception result wait' },
  refundRetryBackoff: { 'zh-CN': '退款重试等待', en: 'Refund retry backoff' },
  refundReconcileWindow: { 'zh-CN': '退款结果核对时限', en: 'Refund reconcile window' },
  appealWindow: { 'zh-CN': '申诉期', en: 'Appeal window' },
};

/** Whose move it is, and who sent an event. */
export const ROLE_LABELS: Record<Role, Label> = {
  customer: { 'zh-CN': '客户', en: 'Customer' },
  merchant: { 'zh-CN': '商家', en: 'Merchant' },
  platform: { 'zh-CN': '平台', en: 'Platform' },
  system: { 'zh-CN': '系统', en: 'System' },
};

/** The label of a workflow's status: open or finished. */
export const WORKFLOW_STATUS_LABELS: Record<'active' | 'done', Label> = {
  active: { 'zh-CN': '处理中', en: 'In progress' },
  done: { 'zh-CN': '已完结', en: 'Done' },
};

/** What each effect asks of the host's services (A4's compensation included), as an outbox row shows it. */
export const EFFECT_LABELS: Record<WorkflowEffect['type'], Label> = {
  'effect.refundRequested': { 'zh-CN': '申请退款', en: 'Refund requested' },
  'effect.interceptionRequested': { 'zh-CN': '申请物流拦截', en: 'Interception requested' },
  'effect.notificationRequested': { 'zh-CN': '发送通知', en: 'Notification requested' },
  'effect.compensationRequested': { 'zh-CN': '申请平台补偿商家', en: 'Merchant compensation requested' },
};

/** P2: what the merchant must still do by hand. */
export const FOLLOW_UP_LABELS: Record<'REJECT_PENDING_CANCELLATION', Label> = {
  REJECT_PENDING_CANCELLATION: { 'zh-CN': '待商家驳回取消订单', en: 'Reject the pending cancel order' },
};

/** The label of an action; a plan submission names its plan (提交方案：直接退款). */
export function actionLabel(type: OrderEventType, plan?: Plan): Label {
  const action = ACTION_LABELS[type];
  if (!plan) return action;
  return { 'zh-CN': `${action['zh-CN']}：${PLAN_LABELS[plan]['zh-CN']}`, en: `${action.en}: ${PLAN_LABELS[plan].en}` };
}

/** A timer's label; a name this release does not know is shown as it is. */
export function timerLabel(timer: string): Label {
  return TIMER_LABELS[timer as TimerName] ?? { 'zh-CN': timer, en: timer };
}

/** A cancel-order status in one locale (Chinese by default). */
export function cancellationStatusLabel(status: CancellationStatus, locale: Locale = 'zh-CN'): string {
  return CANCELLATION_STATUS_LABELS[status][locale];
}

/** A cancel-order reason in one locale (Chinese by default). */
export function cancellationReasonLabel(reason: CancellationReason, locale: Locale = 'zh-CN'): string {
  return CANCELLATION_REASON_LABELS[reason][locale];
}

/** A dispute status in one locale (Chinese by default). */
export function disputeStatusLabel(status: DisputeStatus, locale: Locale = 'zh-CN'): string {
  return DISPUTE_STATUS_LABELS[status][locale];
}

/** A plan in one locale (Chinese by default). */
export function planLabel(plan: Plan, locale: Locale = 'zh-CN'): string {
  return PLAN_LABELS[plan][locale];
}
