import {
  ConflictingCancellationError,
  DuplicateCommandError,
  FinalStateError,
  InvalidPayloadError,
  InvalidTimeError,
  NotAllowedInStateError,
  VersionConflictError,
  WorkflowError,
  WrongRoleError,
} from './errors.js';
import { EVENT_ROLES } from './roles.js';
import { Sender } from './schemas/common.js';
import type { PolicySettings } from './schemas/policy.js';
import { sanitizeText } from './schemas/text.js';

/**
 * D9 with `refusalLog: 'separate'`: refused attempts on a known workflow are kept in a log of their own,
 * capped per workflow, apart from the audit trail. A refusal never touches the trail, the version, the
 * audit sequence, the snapshot, the deadlines or the outbox (INV4): it is written after the refusal, on
 * its own, and a failure to write it is reported, never turned into another error.
 *
 * Refused input may be hostile, so a refusal keeps only what it can vouch for: the event type when it is
 * one the workflow knows, the sender when it parses as one, the error's code, its message cut short and
 * stripped of control characters, and the time. Never the payload.
 */
export interface Refusal {
  /** The host's clock when the attempt was refused (epoch ms). */
  at: number;
  /** The sender's role and id, when the attempt named a valid sender; else null. */
  role: string | null;
  actorId: string | null;
  /** The event type, when it is one of the workflow's events; else null. */
  eventType: string | null;
  /** The error's stable code (INVALID_PAYLOAD, WRONG_ROLE, NOT_ALLOWED_IN_STATE, …). */
  code: string;
  /** The error's message, at most REFUSAL_MESSAGE_MAX characters. */
  message: string;
}

/** A refusal as stored: the refusal and its workflow. */
export interface RefusalRow extends Refusal {
  workflowId: string;
}

/** Refusals kept per workflow unless a store is given another cap: the newest 100. */
export const REFUSAL_LOG_DEFAULT_CAP = 100;
/** Longest message kept (characters). */
export const REFUSAL_MESSAGE_MAX = 300;

/**
 * The typed errors that refuse an attempt on a known workflow: validation, a wrong role, an event the
 * state does not take, a final state, a conflicting cancel order, a time out of order, a repeated
 * command id with another payload, a version the caller expected that is not the stored one. Errors of
 * the host itself (a store that is unavailable, an unknown workflow, a machine version this release
 * does not know) are not refusals of the attempt and are not logged.
 */
const REFUSALS = [
  InvalidPayloadError,
  WrongRoleError,
  NotAllowedInStateError,
  FinalStateError,
  ConflictingCancellationError,
  InvalidTimeError,
  DuplicateCommandError,
  VersionConflictError,
] as const;

export function isRefusal(error: unknown): error is WorkflowError {
  return error instanceof WorkflowError && REFUSALS.some((kind) => error instanceof kind);
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** The message as kept: control characters and line breaks become one space, cut at REFUSAL_MESSAGE_MAX. */
export function refusalMessage(message: string): string {
  const flat = sanitizeText(message.replace(CONTROL, ' '));
  // A cut may split a surrogate pair: made storable again (a lone half becomes U+FFFD).
  return flat.length <= REFUSAL_MESSAGE_MAX ? flat : `${sanitizeText(flat.slice(0, REFUSAL_MESSAGE_MAX - 1))}…`;
}

/** What a refusal of `raw` (the attempt as it arrived) keeps: see `Refusal`. */
export function refusalOf(raw: unknown, error: WorkflowError, at: number): Refusal {
  const type = isRecord(raw) && typeof raw.type === 'string' && Object.hasOwn(EVENT_ROLES, raw.type) ? raw.type : null;
  const sender = isRecord(raw) ? Sender.safeParse(raw.by) : undefined;
  return {
    at,
    role: sender?.success ? sender.data.role : null,
    actorId: sender?.success ? sender.data.id : null,
    eventType: type,
    code: error.code,
    message: refusalMessage(error.message),
  };
}

/** The setting a stored workflow's context holds (machine versions before the policy: none). */
export function refusalLogOf(snapshot: unknown): PolicySettings['refusalLog'] {
  const context = isRecord(snapshot) && isRecord(snapshot.context) ? snapshot.context : undefined;
  const policy = context && isRecord(context.policy) ? context.policy : undefined;
  return policy?.refusalLog === 'separate' ? 'separate' : 'none';
}

/** Keeps the newest `cap` refusals of a list (oldest first), in place. */
export function capRefusals<T>(list: T[], cap: number): void {
  if (list.length > cap) list.splice(0, list.length - cap);
}

/** A store's cap option, checked: a whole number >= 1. */
export function refusalCap(cap: number | undefined): number {
  const value = cap ?? REFUSAL_LOG_DEFAULT_CAP;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`refusalLogCap must be a whole number >= 1, got ${value}`);
  return value;
}

const text = (value: unknown, max: number): string | null =>
  typeof value === 'string' ? sanitizeText(sanitizeText(value.replace(CONTROL, ' ')).slice(0, max)) : null;

/**
 * A refusal row exactly as a store keeps it: its fields only, each a string of bounded length or null
 * (the message cut at REFUSAL_MESSAGE_MAX), `at` a whole number. Stores apply it to what they are given.
 */
export function storableRefusal(row: RefusalRow): RefusalRow {
  if (typeof row.workflowId !== 'string' || !Number.isSafeInteger(row.at))
    throw new TypeError('a refusal names its workflow and a whole-number time');
  return {
    workflowId: row.workflowId,
    at: row.at,
    role: text(row.role, 16),
    actorId: text(row.actorId, 64),
    eventType: text(row.eventType, 64),
    code: text(row.code, 64) ?? 'UNKNOWN',
    message: refusalMessage(typeof row.message === 'string' ? row.message : ''),
  };
}
