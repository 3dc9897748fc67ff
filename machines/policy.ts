import type { PolicySettings } from '../src/schemas/policy.js';

/**
 * The guard every machine uses to read its `policy` (D1, C2, C5, D6, D8: DOMAIN.md, Settings): true
 * when each named setting has the given value. Transitions name the value they belong to in their
 * params (`{ type: 'policyIs', params: { shippedJdApproval: 'intercept' } }`), so a setting changes
 * which transition is taken, never what an action does.
 */
export const policyIs = ({ context }: { context: { policy: PolicySettings } }, params: Partial<PolicySettings>): boolean =>
  (Object.keys(params) as Array<keyof PolicySettings>).every((name) => context.policy[name] === params[name]);

/** A state's `meta`: the policy under which each of its tags holds (a tag not named holds always). */
export interface TagPolicyMeta {
  tagsUnder?: Record<string, Partial<PolicySettings>>;
}

/**
 * Whose move it is: the tags of the active states, each only under the policy its state names in
 * `meta.tagsUnder`. A state's tags are static; C5 cancelOrderWithdrawal 'never' leaves the customer
 * no move in pendingReview, whose tags still name the customer.
 */
export function partiesToMove(snapshot: {
  tags: ReadonlySet<string>;
  context: { policy: PolicySettings };
  getMeta(): Record<string, TagPolicyMeta>;
}): string[] {
  const conditions = Object.values(snapshot.getMeta()).flatMap((meta) => Object.entries(meta.tagsUnder ?? {}));
  return [...snapshot.tags].filter((tag) => conditions.every(([named, policy]) => named !== tag || policyIs(snapshot, policy)));
}
