/**
 * Paths per policy (issue 15): the graph changes with the `policy` input, so the paths are generated and
 * replayed for the default policy and for each non-default value of every setting that changes a
 * transition. The values come from the `PolicySettings` enums (src/schemas/policy.ts): a new value is a
 * new variant without any change here; a new setting does not compile until it is declared below, either
 * with the models whose graph it changes or as a host-side setting with the reason.
 */
import { DEFAULT_POLICY, PolicySettings, type PolicyName } from '../../src/schemas/policy.js';
import type { ModelName } from './models.js';

/** Settings no guard reads: their values change no transition, so they get no variant of their own. */
export const HOST_SIDE_SETTINGS = {
  refusalLog:
    'D9: whether the hosts keep refused attempts in a separate log. A refused attempt never reaches a machine (INV4), so no guard reads it and no transition changes.',
} as const satisfies Partial<Record<PolicyName, string>>;

type TransitionSetting = Exclude<PolicyName, keyof typeof HOST_SIDE_SETTINGS>;

/**
 * The models whose state graph a setting can change: the standalone machine whose guards read it and the
 * order composition (which runs every machine, so every setting that changes a transition changes it).
 * A model not named here is generated with the default policy only; test/paths/policy-variants.test.ts
 * proves that its graph is the same under every value of the setting.
 */
export const SETTING_MODELS: Readonly<Record<TransitionSetting, readonly ModelName[]>> = {
  disputesPerOrder: ['order'],
  shippedJdApproval: ['cancellation', 'order'],
  cancelOrderWithdrawal: ['cancellation', 'order'],
  disputeWithdrawal: ['dispute', 'order'],
  rulingRefundRoute: ['cancellation', 'order'],
  appeals: ['dispute', 'order'],
};

export interface PolicyVariant {
  /** `default`, or `<setting>=<value>`. */
  name: string;
  /** File-name form of the name (`<setting>-<value>`); the default's files keep their historical names. */
  slug: string;
  /** The setting this variant changes (absent for the default). */
  setting?: TransitionSetting;
  /** The policy input the machines get (only the changed setting: the others resolve to their defaults). */
  policy: Partial<PolicySettings>;
  /** The models generated under this variant. */
  models: readonly ModelName[];
}

const ALL_MODELS: readonly ModelName[] = ['dispute', 'cancellation', 'order'];

/** Every value of a setting, default first (the schema's enum order). */
export function settingValues(setting: PolicyName): readonly string[] {
  return (PolicySettings.shape[setting] as unknown as { options: readonly string[] }).options;
}

const settingNames = () => Object.keys(PolicySettings.shape) as PolicyName[];

const isHostSide = (setting: PolicyName): setting is keyof typeof HOST_SIDE_SETTINGS => setting in HOST_SIDE_SETTINGS;

/** The default policy, then one variant per non-default value of every setting that changes a transition. */
export function policyVariants(): PolicyVariant[] {
  const variants: PolicyVariant[] = [{ name: 'default', slug: 'default', policy: {}, models: ALL_MODELS }];
  for (const setting of settingNames()) {
    if (isHostSide(setting)) continue;
    const [first, ...others] = settingValues(setting);
    if (first !== DEFAULT_POLICY[setting])
      throw new Error(`policy setting ${setting}: the default (${DEFAULT_POLICY[setting]}) must be its first value`);
    for (const value of others) {
      variants.push({
        name: `${setting}=${value}`,
        slug: `${setting}-${value}`,
        setting,
        policy: { [setting]: value } as Partial<PolicySettings>,
        models: ALL_MODELS.filter((model) => SETTING_MODELS[setting].includes(model)),
      });
    }
  }
  return variants;
}

export const POLICY_VARIANTS: readonly PolicyVariant[] = policyVariants();
export const DEFAULT_VARIANT: PolicyVariant = POLICY_VARIANTS[0]!;

export function variantNamed(name: string): PolicyVariant {
  const variant = POLICY_VARIANTS.find((v) => v.name === name || v.slug === name);
  if (!variant) throw new Error(`no policy variant ${name} (variants: ${POLICY_VARIANTS.map((v) => v.name).join(', ')})`);
  return variant;
}

/**
 * Variants that differ from `variant` in one setting only: the default and a non-default value differ in
 * that setting; two values of one setting differ in it too. What such a sibling covers and `variant`
 * cannot is what that one setting decides.
 */
export function siblingsOf(variant: PolicyVariant): PolicyVariant[] {
  if (!variant.setting) return POLICY_VARIANTS.filter((v) => v.setting);
  return POLICY_VARIANTS.filter((v) => v !== variant && (!v.setting || v.setting === variant.setting));
}

/** The settings that change no transition for this model (the test proves each). */
export function settingsNotChanging(model: ModelName): PolicyVariant[] {
  return POLICY_VARIANTS.filter((v) => v.setting && !v.models.includes(model));
}

/** Host-side settings' non-default values, for the test that proves they change no graph. */
export function hostSideValues(): Array<{ setting: PolicyName; value: string; policy: Partial<PolicySettings> }> {
  return settingNames()
    .filter(isHostSide)
    .flatMap((setting) =>
      settingValues(setting)
        .slice(1)
        .map((value) => ({ setting, value, policy: { [setting]: value } as Partial<PolicySettings> })),
    );
}
