import { describe, expect, it } from 'vitest';
import { Evidence } from '../../src/schemas/evidence.js';
import { isStorableText, sanitizeText, Text, TEXT_RULE_MESSAGE } from '../../src/schemas/text.js';
import { HOSTILE_STRINGS, isStorable } from '../store-contract.js';

describe('the one string rule', () => {
  it('INV4: Text refuses exactly NUL and unpaired surrogates, and keeps every other hostile string as it is', () => {
    for (const [name, value] of HOSTILE_STRINGS) {
      const parsed = Text.safeParse(value);
      expect(parsed.success, name).toBe(isStorable(value));
      if (parsed.success) expect(parsed.data, name).toBe(value);
      else
        expect(
          parsed.error.issues.map((issue) => issue.message),
          name,
        ).toEqual([TEXT_RULE_MESSAGE]);
      expect(isStorableText(value), name).toBe(isStorable(value));
    }
  });

  it('INV4: the length limits of a field still apply on top of the rule', () => {
    expect(Text.max(3).safeParse('abcd').success).toBe(false);
    expect(Text.min(1).safeParse('').success).toBe(false);
    expect(
      Text.max(3)
        .safeParse('a\u0000')
        .error?.issues.map((issue) => issue.message),
    ).toEqual([TEXT_RULE_MESSAGE]);
  });

  it('INV4: evidence text (explanation, reason, file id) follows the rule: a NUL never reaches a store', () => {
    const evidence = {
      reason: 'GOODS_ALREADY_SHIPPED',
      proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'f-1', sizeBytes: 1 }],
      explanation: 'shipped on time',
    };
    expect(Evidence.safeParse(evidence).success).toBe(true);
    for (const field of ['explanation', 'reason'] as const) {
      const parsed = Evidence.safeParse({ ...evidence, [field]: `shipped\u0000${field}` });
      expect(parsed.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([[field, TEXT_RULE_MESSAGE]]);
    }
    const badFile = Evidence.safeParse({ ...evidence, proofs: [{ ...evidence.proofs[0], fileId: 'f\uD800' }] });
    expect(badFile.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['proofs.0.fileId']);
  });

  it('sanitizeText replaces each offending unit with U+FFFD and leaves storable text untouched', () => {
    for (const [name, value] of HOSTILE_STRINGS) {
      const clean = sanitizeText(value);
      expect(isStorableText(clean), name).toBe(true);
      expect(clean.length, name).toBe(value.length);
      if (isStorable(value)) expect(clean, name).toBe(value);
    }
    expect(sanitizeText('a\u0000b\uD800c\uDC00')).toBe('a\uFFFDb\uFFFDc\uFFFD');
    expect(sanitizeText('\uDE00\uD83D')).toBe('\uFFFD\uFFFD');
  });

  it('sanitizeText cuts to a length without splitting a surrogate pair', () => {
    expect(sanitizeText('abcdef', 3)).toBe('abc');
    expect(sanitizeText('ab😀cd', 3)).toBe('ab');
    expect(sanitizeText('ab😀cd', 4)).toBe('ab😀');
    expect(sanitizeText('x'.repeat(300), 200)).toHaveLength(200);
    expect(sanitizeText('abc', 0)).toBe('');
  });
});
