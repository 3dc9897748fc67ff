/**
 * Pinned figures of the path coverage gate, per policy variant. The default policy's pins stay in
 * test/path-coverage.pins.json (by machine id, as before variants); each other variant's are in
 * test/path-coverage.variants.pins.json under the variant's name. `excluded` lists what the variant
 * cannot reach by design (`kind machineId id`): items only another value of one setting reaches, each
 * checked against the variants that cover it (scripts/coverage-paths.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { excludeFromCoverage, type MachineCoverage, type UncoveredItem } from '../../src/coverage/index.js';
import type { PolicyVariant } from './policy-variants.js';

export interface Pin {
  transitionPairs: number;
  paths: number;
  /** Uncovered items this variant cannot reach (another value of a setting does): out of its totals. */
  excluded?: string[];
}

/** Pins of one variant, by machine id. */
export type VariantPins = Record<string, Pin>;

export const DEFAULT_PINS_FILE = fileURLToPath(new URL('../path-coverage.pins.json', import.meta.url));
export const VARIANT_PINS_FILE = fileURLToPath(new URL('../path-coverage.variants.pins.json', import.meta.url));

const readJson = <T>(file: string, fallback: T): T => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : fallback);

/** Every variant's pins, by variant name (`default` included). */
export function loadPins(): Record<string, VariantPins> {
  return { default: readJson<VariantPins>(DEFAULT_PINS_FILE, {}), ...readJson<Record<string, VariantPins>>(VARIANT_PINS_FILE, {}) };
}

export function savePins(pins: Record<string, VariantPins>): void {
  const { default: defaults, ...variants } = pins;
  writeFileSync(DEFAULT_PINS_FILE, `${JSON.stringify(defaults ?? {}, null, 2)}\n`);
  writeFileSync(VARIANT_PINS_FILE, `${JSON.stringify(variants, null, 2)}\n`);
}

/** Where a variant's pins live, for messages. */
export const pinsFileOf = (variant: PolicyVariant) =>
  variant.setting ? 'test/path-coverage.variants.pins.json' : 'test/path-coverage.pins.json';

/** The kinds a variant may exclude: states, transitions and history restores only another policy reaches. */
export const excludable = (item: UncoveredItem) => item.kind === 'state' || item.kind === 'transition' || item.kind === 'history';

export const excludedReason = (variant: PolicyVariant) => (item: UncoveredItem) =>
  `not reachable under ${variant.name} (another policy variant reaches it; pinned in ${pinsFileOf(variant)}): ${item.reason}`;

/** A variant's coverage with its pinned exclusions taken out of the totals. */
export function pinnedCoverage(
  variant: PolicyVariant,
  coverage: MachineCoverage,
  pin: Pin | undefined,
): { coverage: MachineCoverage; unknown: string[] } {
  return excludeFromCoverage(coverage, pin?.excluded ?? [], excludedReason(variant));
}
