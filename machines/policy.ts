import type { PolicySettings } from '../src/schemas/policy.js';

/**
 * The guard every machine uses to read its `policy` (D1, C2, C5, D6, D8: DOMAIN.md, Settings): true
 * when each named setting has the given value. Transitions name the value they belong to in their
 * params (`{ type: 'policyIs', params: { shippedJdApproval: 'intercept' } }`), so a setting changes
 * which transition is taken, never what an action does.
 */
export const policyIs = ({ context }: { context: { policy: PolicySettings } }, params: Partial<PolicySettings>): boolean =>
  (Object.keys(params) as Array<keyof PolicySettings>).every((name) => context.policy[name] === params[name]);
