/**
 * Deep history (a radio that comes back on where it was, band included) and history directly under a
 * parallel state (an editor whose toggles survive a preview).
 *
 * Player, hand count (vertex: value and the recorded history)
 * - states 8: player, off, on, on.hist, on.tuner, tuner.fm, tuner.am, on.cd
 * - transitions 6: power.on (ON), power.off (OFF), tuner source.switch (S), fm band.switch (FA),
 *   am band.switch (AF), cd source.switch (C)
 * - vertices 16: off with nothing recorded; fm, am, cd with nothing recorded; off with fm, am or cd
 *   recorded; fm, am, cd with each of fm, am, cd recorded (9)
 * - pairs 17: ON→FA, ON→S, ON→OFF, ON→AF (am restored), ON→C (cd restored); OFF→ON; S→C, S→OFF;
 *   FA→AF, FA→S, FA→OFF; AF→FA, AF→S, AF→OFF; C→FA, C→S, C→OFF. A vertex without the history value
 *   merges off-with-am and off-with-fm: ON→AF and ON→C disappear (15).
 * - history restores 1/1
 *
 * Editor, hand count
 * - states 10: editor, editing, editing.hist, bold, bold.off, bold.on, italic, italic.off, italic.on,
 *   previewing
 * - transitions 6: preview.open (OPEN), bold on (BON), bold off (BOFF), italic on (ION),
 *   italic off (IOFF), preview.close (CLOSE)
 * - vertices 24: 4 toggle combinations with nothing recorded, previewing with each of 4 recorded, 4
 *   combinations with each of 4 recorded (16)
 * - pairs 22: OPEN→CLOSE; CLOSE→OPEN, CLOSE→BON, CLOSE→BOFF, CLOSE→ION, CLOSE→IOFF (any of the 4
 *   combinations can be restored); each of the 4 toggles → OPEN, its own opposite, and both toggles of
 *   the other region (4 × 4). Without the history value CLOSE→BOFF and CLOSE→IOFF disappear (20).
 * - history restores 1/1; regions bold and italic 3 states / 2 transitions each
 */
import { createMachine, setup, type AnyStateMachine } from 'xstate';

type PlayerEvent = { type: 'power.on' } | { type: 'power.off' } | { type: 'source.switch' } | { type: 'band.switch' };

export const playerMachine = setup({ types: { events: {} as PlayerEvent } }).createMachine({
  id: 'player',
  initial: 'off',
  states: {
    off: { on: { 'power.on': 'on.hist' } },
    on: {
      initial: 'tuner',
      states: {
        hist: { type: 'history', history: 'deep' },
        tuner: {
          initial: 'fm',
          states: {
            fm: { on: { 'band.switch': 'am' } },
            am: { on: { 'band.switch': 'fm' } },
          },
          on: { 'source.switch': 'cd' },
        },
        cd: { on: { 'source.switch': 'tuner' } },
      },
      on: { 'power.off': 'off' },
    },
  },
});

type EditorEvent = { type: 'bold.toggle' } | { type: 'italic.toggle' } | { type: 'preview.open' } | { type: 'preview.close' };

export const editorMachine = setup({ types: { events: {} as EditorEvent } }).createMachine({
  id: 'editor',
  initial: 'editing',
  states: {
    editing: {
      type: 'parallel',
      states: {
        hist: { type: 'history', history: 'deep' },
        bold: {
          initial: 'off',
          states: { off: { on: { 'bold.toggle': 'on' } }, on: { on: { 'bold.toggle': 'off' } } },
        },
        italic: {
          initial: 'off',
          states: { off: { on: { 'italic.toggle': 'on' } }, on: { on: { 'italic.toggle': 'off' } } },
        },
      },
      on: { 'preview.open': 'previewing' },
    },
    previewing: { on: { 'preview.close': 'editing.hist' } },
  },
});

type Config = { states: Record<string, any> } & Record<string, any>;
type HistorySample = typeof playerMachine | typeof editorMachine;

const copy = (machine: HistorySample, edit: (states: Config['states']) => Config['states']): AnyStateMachine => {
  const config = machine.config as unknown as Config;
  return createMachine({ ...config, states: edit({ ...config.states }) } as never);
};

/** Mutant: the deep history made shallow, so it records (and restores) the parent's child, not the leaves. */
export function shallowed(machine: HistorySample, parent: 'on' | 'editing') {
  return copy(machine, (states) => {
    const node = states[parent];
    return { ...states, [parent]: { ...node, states: { ...node.states, hist: { type: 'history', history: 'shallow' } } } };
  });
}

/** Mutant: the transition that came back through the history enters the parent instead; it records the same, restores the initial child. */
export function bypassed(machine: HistorySample, from: 'off' | 'previewing', event: string, parent: 'on' | 'editing') {
  return copy(machine, (states) => ({ ...states, [from]: { ...states[from], on: { [event]: parent } } }));
}
