import type { CancellationReason, CancellationStatus, DisputeStatus, Plan, Ruling } from './schemas/common.js';

export type Locale = 'zh-CN' | 'en';
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

export const CANCELLATION_REASON_LABELS: Record<CancellationReason, Label> = {
  CUSTOMER_REQUEST: { 'zh-CN': '用户申请取消', en: "Customer's cancellation request" },
  DIRECT_REFUND_DISPUTE_PLAN: { 'zh-CN': '直接退款纠纷方案', en: 'Direct-refund dispute plan' },
  INTERCEPT_48H_DISPUTE_PLAN: { 'zh-CN': '48H物流拦截退款纠纷方案', en: '48H logistics-interception dispute plan' },
  PLATFORM_RULING_REFUND: { 'zh-CN': '平台判责退款', en: 'Refund ordered by a platform ruling' },
};

export const DISPUTE_STATUS_LABELS: Record<DisputeStatus, Label> = {
  awaitingMerchantChoice: { 'zh-CN': '待商家选择方案', en: "Awaiting the merchant's plan" },
  awaitingCustomerConfirmation: { 'zh-CN': '待客户确认', en: 'Awaiting customer confirmation' },
  awaitingPlatformRuling: { 'zh-CN': '待平台判责', en: 'Awaiting platform ruling' },
  resolved: { 'zh-CN': '已解决', en: 'Resolved' },
  withdrawn: { 'zh-CN': '用户撤销', en: 'Withdrawn by the customer' },
};

export const PLAN_LABELS: Record<Plan, Label> = {
  DIRECT_REFUND: { 'zh-CN': '直接退款', en: 'Direct refund' },
  NEGOTIATED_REJECT: { 'zh-CN': '已协商驳回取消', en: 'Negotiated: reject the cancellation' },
  WAIT_48H_INTERCEPT: { 'zh-CN': '已协商同意等待48H物流拦截', en: 'Negotiated: wait 48H for logistics interception' },
  PLATFORM_RULING: { 'zh-CN': '无法自主处理,需平台介入判责', en: 'Cannot settle: the platform rules on liability' },
};

export const RULING_LABELS: Record<Ruling, Label> = {
  MERCHANT_LIABLE: { 'zh-CN': '商家有责', en: 'Merchant liable' },
  MERCHANT_NOT_LIABLE: { 'zh-CN': '商家无责', en: 'Merchant not liable' },
};

export function cancellationStatusLabel(status: CancellationStatus, locale: Locale = 'zh-CN'): string {
  return CANCELLATION_STATUS_LABELS[status][locale];
}

export function cancellationReasonLabel(reason: CancellationReason, locale: Locale = 'zh-CN'): string {
  return CANCELLATION_REASON_LABELS[reason][locale];
}

export function disputeStatusLabel(status: DisputeStatus, locale: Locale = 'zh-CN'): string {
  return DISPUTE_STATUS_LABELS[status][locale];
}

export function planLabel(plan: Plan, locale: Locale = 'zh-CN'): string {
  return PLAN_LABELS[plan][locale];
}
