// Stryker ignorers for `npm run mutation` (stryker.config.json "ignorers"). Each ignores only code that
// provably cannot change behaviour; the reason is what Stryker reports for the ignored mutants.
import { declareValuePlugin, PluginKind } from '@stryker-mutator/api/plugin';

/**
 * `description: '…'` in a machine config is documentation: XState stores it on the state node or
 * transition and nothing reads it at run time (docs/rules.md and the diagrams read it from the source).
 */
const descriptionIgnorer = {
  shouldIgnore(path) {
    const parent = path.parentPath;
    if (!parent?.isObjectProperty() || parent.node.value !== path.node) return undefined;
    const key = parent.node.key;
    const name = key.type === 'Identifier' ? key.name : key.type === 'StringLiteral' ? key.value : undefined;
    if (name !== 'description') return undefined;
    return path.isStringLiteral() || path.isTemplateLiteral() ? 'machine descriptions are documentation, never read at run time' : undefined;
  },
};

/**
 * `setup({ types: { context: {} as … } })` declares types for TypeScript only: XState never reads the
 * `types` object at run time, so emptying it or its members changes nothing a machine does.
 */
const setupTypesIgnorer = {
  shouldIgnore(path) {
    for (let node = path; node; node = node.parentPath) {
      const parent = node.parentPath;
      if (!parent?.isObjectProperty() || parent.node.value !== node.node) continue;
      const key = parent.node.key;
      if (key.type !== 'Identifier' || key.name !== 'types') continue;
      const call = parent.parentPath?.parentPath;
      if (call?.isCallExpression() && call.node.callee.type === 'Identifier' && call.node.callee.name === 'setup') {
        return "setup's types are for TypeScript only; XState does not read them at run time";
      }
    }
    return undefined;
  },
};

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'machine-descriptions', descriptionIgnorer),
  declareValuePlugin(PluginKind.Ignore, 'setup-types', setupTypesIgnorer),
];
