import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The statechart view's page assets: script and style. */
export interface ViewAssets {
  /** The page's script: the client and the layout library (elkjs), one ES module. */
  script: string;
  style: string;
}

export const VIEW_SCRIPT = 'view.js';
export const VIEW_STYLE = 'view.css';

/** Where `npm run build:view` writes the assets: `dist/view/` of the package. */
export const BUILT_ASSETS_DIR = fileURLToPath(new URL('../../view/', import.meta.url));
const CLIENT_ENTRY = fileURLToPath(new URL('./client/main.ts', import.meta.url));
const CLIENT_STYLE = fileURLToPath(new URL('./client/style.css', import.meta.url));

let loading: Promise<ViewAssets> | undefined;

/**
 * The page's assets: the ones built into the package (`dist/view/`), or, in a source checkout
 * without a build, bundled now with esbuild (a dev dependency).
 */
export function loadViewAssets(): Promise<ViewAssets> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(): Promise<ViewAssets> {
  const script = `${BUILT_ASSETS_DIR}${VIEW_SCRIPT}`;
  const style = `${BUILT_ASSETS_DIR}${VIEW_STYLE}`;
  if (existsSync(script) && existsSync(style)) {
    return { script: readFileSync(script, 'utf8'), style: readFileSync(style, 'utf8') };
  }
  if (!existsSync(CLIENT_ENTRY)) {
    throw new Error(`the statechart view's assets are missing (${script}); the package was built without \`npm run build:view\``);
  }
  return bundleViewAssets();
}

/** Bundles the page's script and style with esbuild. */
export async function bundleViewAssets(options: { minify?: boolean } = {}): Promise<ViewAssets> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    legalComments: 'inline',
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output for the statechart view');
  return { script: output.text, style: readFileSync(CLIENT_STYLE, 'utf8') };
}
