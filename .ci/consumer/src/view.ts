// The statechart view's page assets are built into the package (dist/view/): no bundler at run time.
import assert from 'node:assert/strict';
import { loadViewAssets } from 'jd-dispute-statecharts/view';

const assets = await loadViewAssets();
assert.ok(assets.script.length > 0 && assets.style.length > 0, 'the view page has a script and a style');
console.log(`ok   ./view loads its built assets (${Math.round(assets.script.length / 1024)} KiB script) without esbuild`);
