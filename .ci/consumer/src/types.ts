// Compiled against the published declarations (dist/*.d.ts) with strict, nodenext, skipLibCheck: false.
import {
  createOrderWorkflow,
  isWorkflowError,
  MissingPeerDependencyError,
  orderMachine,
  WrongRoleError,
  type OrderEvent,
  type WorkflowError,
} from 'jd-dispute-statecharts';
import { toMermaid } from 'jd-dispute-statecharts/coverage';
import {
  createMemoryStore,
  createSqliteStore,
  createWorkflowRuntime,
  MissingPeerDependencyError as RuntimeMissingPeerDependencyError,
  type WorkflowRuntime,
  type WorkflowStore,
} from 'jd-dispute-statecharts/runtime';

export const store: WorkflowStore = createMemoryStore();
export const sqlite: (filename: string) => WorkflowStore = (filename) => createSqliteStore({ filename });
export const runtimeFactory: (options: Parameters<typeof createWorkflowRuntime>[0]) => WorkflowRuntime = createWorkflowRuntime;

// One error class behind both entry points, with a literal code.
export const sameClass: typeof MissingPeerDependencyError = RuntimeMissingPeerDependencyError;
export const code: 'MISSING_PEER_DEPENDENCY' = new MissingPeerDependencyError('better-sqlite3', 'createSqliteStore').code;
export const wrongRole: 'WRONG_ROLE' = new WrongRoleError('dispute.opened', 'merchant', 'm-1', 'not a customer').code;
export const narrowed = (error: unknown): WorkflowError | undefined => (isWorkflowError(error) ? error : undefined);

export const event: OrderEvent = { type: 'dispute.opened', at: 0, by: { role: 'customer', id: 'c-1' }, disputeId: 'd-1' };
export const workflow = createOrderWorkflow({ orderId: 'o-1', merchantId: 'm-1', customerId: 'c-1', deliveredBy: 'JD', at: 0 });
export const machineId: string = orderMachine.id;
export const diagram: string = toMermaid(orderMachine);
