import * as z from 'zod';
import { InvalidPayloadError } from '../errors.js';
import { EntityId } from '../schemas/common.js';

/** Printable ASCII without spaces: safe in logs, keys and SQL. */
export const CommandId = z
  .string()
  .min(1)
  .max(400)
  .regex(/^[\x21-\x7e]+$/, 'command ids are printable ASCII without spaces');

export const DispatchEnvelope = z.strictObject({
  workflowId: EntityId,
  commandId: CommandId,
  expectedVersion: z.number().int().positive().optional(),
  event: z.unknown(),
});

export const OpenEnvelope = z.strictObject({
  workflowId: EntityId.optional(),
  commandId: CommandId.optional(),
  input: z.unknown(),
});

/** INV4: the request around an event is validated like the event itself. */
export function parseEnvelope<T extends z.ZodType>(schema: T, request: unknown): z.output<T> {
  const parsed = schema.safeParse(request);
  if (parsed.success) return parsed.data;
  throw new InvalidPayloadError(parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })));
}

/** Runs `hash` over a raw payload, refusing values JSON cannot hold (too deep, cyclic, BigInt). */
export function hashRawPayload(hash: (payload: unknown) => string, payload: unknown): string {
  try {
    return hash(payload);
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) {
      throw new InvalidPayloadError([{ path: '', message: 'not a JSON value (too deep, cyclic or BigInt)' }]);
    }
    throw error;
  }
}
