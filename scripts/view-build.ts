/**
 * `npm run build:view`: bundles the statechart view's page (client, elkjs layout, style) into
 * dist/view/, where the packaged server reads it. Run by the package's build, so the layout library
 * stays a dev dependency: installed users get it inside these files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { bundleViewAssets, VIEW_SCRIPT, VIEW_STYLE } from '../src/view/assets.js';

const root = new URL('..', import.meta.url).pathname;
const out = `${root}dist/view/`;
const assets = await bundleViewAssets({ minify: true });
mkdirSync(out, { recursive: true });
writeFileSync(`${out}${VIEW_SCRIPT}`, assets.script);
writeFileSync(`${out}${VIEW_STYLE}`, assets.style);
console.log(
  `dist/view/${VIEW_SCRIPT} ${(assets.script.length / 1024).toFixed(0)} KiB, dist/view/${VIEW_STYLE} ${(assets.style.length / 1024).toFixed(0)} KiB`,
);
