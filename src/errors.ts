/** Every error the package throws on purpose has a literal `name` and a stable `code`. */
export abstract class WorkflowError extends Error {
  abstract readonly code: string;
}

/** One problem found in an input: where (a dotted path) and what. */
export interface Issue {
  path: string;
  message: string;
}

/** INV4: the payload does not match its schema (or the evidence catalogue). */
export class InvalidPayloadError extends WorkflowError {
  override readonly name = 'InvalidPayloadError';
  readonly code = 'INVALID_PAYLOAD';
  constructor(readonly issues: Issue[]) {
    super(`invalid payload: ${issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')}`);
  }
}

/** INV4: this role may not send this event, or this sender is not a party to this order. */
export class WrongRoleError extends WorkflowError {
  override readonly name = 'WrongRoleError';
  readonly code = 'WRONG_ROLE';
  constructor(
    readonly eventType: string,
    readonly role: string,
    readonly senderId: string,
    detail: string,
  ) {
    super(`${role} ${senderId} may not send ${eventType}: ${detail}`);
  }
}

/** INV4: the event does not fit the current state. */
export class NotAllowedInStateError extends WorkflowError {
  override readonly name = 'NotAllowedInStateError';
  readonly code = 'NOT_ALLOWED_IN_STATE';
  constructor(
    readonly eventType: string,
    readonly state: unknown,
    detail = 'no transition accepts it now',
  ) {
    super(`${eventType} is not allowed in state ${JSON.stringify(state)}: ${detail}`);
  }
}

/** INV3: the workflow (or the addressed cancel order or dispute) is final. */
export class FinalStateError extends WorkflowError {
  override readonly name = 'FinalStateError';
  readonly code = 'FINAL_STATE';
  constructor(
    readonly eventType: string,
    readonly subject: string,
    readonly status: string,
  ) {
    super(`${eventType} refused: ${subject} is final (${status})`);
  }
}

/** X1: a refund plan collides with a customer's cancel order (or an earlier refund). */
export class ConflictingCancellationError extends WorkflowError {
  override readonly name = 'ConflictingCancellationError';
  readonly code = 'CONFLICTING_CANCELLATION';
  constructor(
    readonly plan: string,
    readonly cancellationId: string | null,
    hint: string,
  ) {
    super(`plan ${plan} cannot run: ${hint}`);
  }
}

/** A command id seen before with a different payload. */
export class DuplicateCommandError extends WorkflowError {
  override readonly name = 'DuplicateCommandError';
  readonly code = 'DUPLICATE_COMMAND';
  constructor(readonly commandId: string) {
    super(`command ${commandId} was already used with a different payload`);
  }
}

/** The command was based on an older version of the workflow. */
export class VersionConflictError extends WorkflowError {
  override readonly name = 'VersionConflictError';
  readonly code = 'VERSION_CONFLICT';
  constructor(
    readonly workflowId: string,
    readonly expectedVersion: number | null,
    readonly actualVersion: number | null,
  ) {
    super(`workflow ${workflowId} is at version ${actualVersion ?? 'none'}, not ${expectedVersion ?? 'none'}`);
  }
}

/** No workflow with this id. */
export class WorkflowNotFoundError extends WorkflowError {
  override readonly name = 'WorkflowNotFoundError';
  readonly code = 'WORKFLOW_NOT_FOUND';
  constructor(readonly workflowId: string) {
    super(`no workflow ${workflowId}`);
  }
}

/** Whether the error is one of this package's typed errors (with a stable `code`). */
export const isWorkflowError = (error: unknown): error is WorkflowError => error instanceof WorkflowError;

/** An optional peer dependency that a feature needs is not installed (better-sqlite3 for the SQLite store). */
export class MissingPeerDependencyError extends WorkflowError {
  override readonly name = 'MissingPeerDependencyError';
  readonly code = 'MISSING_PEER_DEPENDENCY';
  constructor(
    readonly packageName: string,
    readonly feature: string,
    options: { cause?: unknown; version?: string } = {},
  ) {
    const spec = options.version ? `${packageName}@${options.version}` : packageName;
    super(
      `${feature} needs the optional peer dependency ${packageName}: npm install ${spec}`,
      'cause' in options ? { cause: options.cause } : undefined,
    );
  }
}

/** A stored workflow was written by a machine version this release cannot restore (no migration path). */
export class UnknownMachineVersionError extends WorkflowError {
  override readonly name = 'UnknownMachineVersionError';
  readonly code = 'UNKNOWN_MACHINE_VERSION';
  constructor(
    readonly workflowId: string,
    readonly storedVersion: number,
    readonly currentVersion: number,
  ) {
    super(
      `workflow ${workflowId} was written by machine version ${storedVersion}; this release runs version ${currentVersion} and has no migration from it`,
    );
  }
}

/** The command's time breaks the runtime's time rules (skew, order, catch-up point). */
export class InvalidTimeError extends WorkflowError {
  override readonly name = 'InvalidTimeError';
  readonly code = 'INVALID_TIME';
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(`at ${at} ${reason}`);
  }
}

/** A workflow with this id exists already, opened with another input. */
export class WorkflowExistsError extends WorkflowError {
  override readonly name = 'WorkflowExistsError';
  readonly code = 'WORKFLOW_EXISTS';
  constructor(readonly workflowId: string) {
    super(`workflow ${workflowId} exists already with another input`);
  }
}

/**
 * The store could not be reached or could not finish in time (connection lost or refused, server
 * shutting down or starting, lock or statement timeout, SQLite busy or full). Retryable: nothing of a
 * refused transaction was written, but a write whose connection broke while it committed may have been
 * (retry it with the same command id; the store answers the first result). Hosts answer HTTP 503 with
 * Retry-After. `driverCode` is the driver's code (SQLSTATE, errno, SQLITE_*); `cause` its error.
 */
export class StoreUnavailableError extends WorkflowError {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE';
  readonly retryable = true;
  constructor(
    readonly store: 'sqlite' | 'postgres',
    readonly operation: string,
    readonly driverCode: string | null,
    options: { cause: unknown },
  ) {
    super(`${store} store unavailable during ${operation}${driverCode ? ` (${driverCode})` : ''}`, options);
  }
}

/** X2: a cancel-order query (filters, page size, cursor) that does not match its schema. */
export class InvalidQueryError extends WorkflowError {
  override readonly name = 'InvalidQueryError';
  readonly code = 'INVALID_QUERY';
  constructor(readonly issues: Issue[]) {
    super(`invalid query: ${issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')}`);
  }
}
