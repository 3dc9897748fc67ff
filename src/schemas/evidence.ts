import * as z from 'zod';
import { Text } from './text.js';

/** D4 [I]: the evidence catalogue is data; a deployment may replace it. */
export const ProofKind = z.enum(['LOGISTICS_RECEIPT', 'SIGNED_DELIVERY', 'CHAT_RECORD', 'PRODUCT_PAGE_NOTICE', 'PHOTO']);
export type ProofKind = z.infer<typeof ProofKind>;

export const EvidenceLimits = z.strictObject({
  maxProofs: z.number().int().min(1),
  maxProofBytes: z.number().int().min(1),
  minExplanationLength: z.number().int().min(0),
  maxExplanationLength: z.number().int().min(1),
});
export type EvidenceLimits = z.infer<typeof EvidenceLimits>;

/** Who may give evidence: the merchant (D4's evidence plan, A1 appeal) or the customer (A1 appeal). */
export const EvidenceParty = z.enum(['merchant', 'customer']);
export type EvidenceParty = z.infer<typeof EvidenceParty>;

export const EvidenceReasonSpec = z.strictObject({
  labelZh: Text.min(1),
  labelEn: Text.min(1),
  requiredProofs: z.array(ProofKind).min(1),
  /**
   * A1 [I]: who may give this reason; absent means the merchant only (the no-fault reasons of D4). A
   * customer appealing a MERCHANT_NOT_LIABLE ruling gives one of the reasons listed for `customer`.
   */
  givenBy: z.array(EvidenceParty).min(1).optional(),
});
export type EvidenceReasonSpec = z.infer<typeof EvidenceReasonSpec>;

/** D4: the evidence reasons a merchant may choose, the proofs each needs, and the limits. */
export const EvidenceCatalogue = z.strictObject({
  reasons: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), EvidenceReasonSpec),
  limits: EvidenceLimits,
});
export type EvidenceCatalogue = z.infer<typeof EvidenceCatalogue>;

/** The evidence catalogue used when the host supplies none (D4). */
export const DEFAULT_EVIDENCE_CATALOGUE: EvidenceCatalogue = EvidenceCatalogue.parse({
  reasons: {
    GOODS_ALREADY_SHIPPED: {
      labelZh: '商品已发货',
      labelEn: 'Goods already shipped',
      requiredProofs: ['LOGISTICS_RECEIPT'],
    },
    GOODS_ALREADY_DELIVERED: {
      labelZh: '商品已妥投',
      labelEn: 'Goods already delivered',
      requiredProofs: ['SIGNED_DELIVERY'],
    },
    CUSTOMER_AGREED_TO_KEEP: {
      labelZh: '已与客户协商不取消',
      labelEn: 'Customer agreed to keep the order',
      requiredProofs: ['CHAT_RECORD'],
    },
    CUSTOM_MADE_GOODS: {
      labelZh: '定制商品不支持取消',
      labelEn: 'Custom-made goods cannot be cancelled',
      requiredProofs: ['PRODUCT_PAGE_NOTICE', 'CHAT_RECORD'],
    },
    // A1 [I]: the customer's side, for an appeal of a MERCHANT_NOT_LIABLE ruling.
    MERCHANT_AGREED_TO_CANCEL: {
      labelZh: '商家已同意取消',
      labelEn: 'The merchant agreed to cancel',
      requiredProofs: ['CHAT_RECORD'],
      givenBy: ['customer'],
    },
    CANCELLED_BEFORE_SHIPMENT: {
      labelZh: '发货前已申请取消',
      labelEn: 'Cancellation requested before shipment',
      requiredProofs: ['PHOTO'],
      givenBy: ['customer'],
    },
  },
  limits: { maxProofs: 9, maxProofBytes: 10 * 1024 * 1024, minExplanationLength: 10, maxExplanationLength: 500 },
});

/** One proof attached to evidence: its kind and the id of the uploaded file. */
export const Proof = z.strictObject({
  kind: ProofKind,
  fileId: Text.min(1).max(128),
  sizeBytes: z.number().int().positive(),
});
export type Proof = z.infer<typeof Proof>;

/** Shape only; `evidenceIssues` checks it against a catalogue. */
export const Evidence = z.strictObject({
  reason: Text.min(1).max(64),
  proofs: z.array(Proof).max(50),
  explanation: Text.max(5000),
});
export type Evidence = z.infer<typeof Evidence>;

/**
 * D4/A1: what is wrong with this evidence under this catalogue, given by this party (empty when it is
 * complete). The merchant gives the reasons without `givenBy` and those listing it; the customer only
 * those listing `customer`.
 */
export function evidenceIssues(evidence: Evidence, catalogue: EvidenceCatalogue, party: EvidenceParty = 'merchant'): string[] {
  const issues: string[] = [];
  const spec = catalogue.reasons[evidence.reason];
  const { limits } = catalogue;
  if (!spec) issues.push(`evidence reason ${evidence.reason} is not in the catalogue`);
  else if (!(spec.givenBy ?? ['merchant']).includes(party)) issues.push(`evidence reason ${evidence.reason} is not one the ${party} may give`);
  if (evidence.proofs.length > limits.maxProofs) issues.push(`at most ${limits.maxProofs} proofs`);
  for (const proof of evidence.proofs) {
    if (proof.sizeBytes > limits.maxProofBytes) issues.push(`proof ${proof.fileId} exceeds ${limits.maxProofBytes} bytes`);
  }
  const given = new Set(evidence.proofs.map((proof) => proof.kind));
  for (const required of spec?.requiredProofs ?? []) {
    if (!given.has(required)) issues.push(`reason ${evidence.reason} needs a ${required} proof`);
  }
  const length = evidence.explanation.trim().length;
  if (length < limits.minExplanationLength || length > limits.maxExplanationLength) {
    issues.push(`explanation must be ${limits.minExplanationLength}–${limits.maxExplanationLength} characters`);
  }
  return issues;
}
