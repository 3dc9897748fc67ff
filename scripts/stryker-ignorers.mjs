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

export const strykerPlugins = [declareValuePlugin(PluginKind.Ignore, 'machine-descriptions', descriptionIgnorer)];
