import * as z from 'zod';

/**
 * The one string rule. Every string a client or an adapter hands us is stored (PostgreSQL, SQLite, JSON),
 * and two kinds of text do not survive every store: NUL (PostgreSQL text and jsonb refuse it) and a UTF-16
 * surrogate without its pair (UTF-8 cannot encode it: drivers replace it silently, jsonb refuses it).
 * Refused at the boundary, they never reach a store, and every store answers the same.
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export const TEXT_RULE_MESSAGE = 'text may not contain NUL or an unpaired surrogate';

/** True when every store keeps `value` exactly: no NUL, no unpaired surrogate. */
export const isStorableText = (value: string): boolean => !UNSTORABLE.test(value);

/** A string under the string rule; add length limits as usual: `Text.min(1).max(128)`. */
export const Text = z.string().refine(isStorableText, { message: TEXT_RULE_MESSAGE });
export type Text = z.infer<typeof Text>;

/**
 * Makes an adapter's text storable instead of refusing it (money may have moved: the answer is kept):
 * NUL and unpaired surrogates become U+FFFD, and the text is cut to `maxLength` UTF-16 code units
 * without splitting a pair. `sanitizeText(x) === x` exactly when `x` was storable and short enough.
 */
export function sanitizeText(value: string, maxLength = Number.POSITIVE_INFINITY): string {
  let text = value.replace(UNSTORABLE_ALL, '\uFFFD');
  if (text.length > maxLength) {
    const end = Math.max(0, Math.floor(maxLength));
    // A high surrogate at the cut would lose its pair: cut before it.
    const last = text.charCodeAt(end - 1);
    text = text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
  }
  return text;
}
