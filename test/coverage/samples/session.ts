/**
 * A root-level `after`: the session expires 30 minutes after it starts, whatever state it is in.
 * The root is never left, so the timer fires once; after a login nothing is pending any more.
 *
 * Hand count (key: value; pending timers are part of every vertex)
 * - states 5: session, idle, active, expired, loggedOut
 * - transitions 5: root after sessionTimeout (T), idle user.active (A), active user.idle (I),
 *   active user.logout (L), expired user.login (G)
 * - vertices 6: idle and active with the timer pending, expired, idle and active with nothing
 *   pending, loggedOut
 * - pairs 7: A→I, A→L, A→T, I→A, I→T, T→G, G→A
 * - diagram: the timer leaves idle and active only (expired is entered by the timer alone)
 */
import { setup } from 'xstate';

export const SESSION_TIMEOUT = 30 * 60_000;

export const sessionMachine = setup({
  types: { events: {} as { type: 'user.active' } | { type: 'user.idle' } | { type: 'user.logout' } | { type: 'user.login' } },
  delays: { sessionTimeout: SESSION_TIMEOUT },
}).createMachine({
  id: 'session',
  initial: 'idle',
  after: { sessionTimeout: '.expired' },
  states: {
    idle: { on: { 'user.active': 'active' } },
    active: { on: { 'user.idle': 'idle', 'user.logout': 'loggedOut' } },
    expired: { on: { 'user.login': 'idle' } },
    loggedOut: { type: 'final' },
  },
});
