/**
 * The self-hosted statechart view (package subpath `./view`): a live page fed by XState's inspection
 * stream, a replay page for a stored workflow's audit trail, and the coverage report as a page. The
 * page's script and style ship in the package (built by `npm run build:view`); nothing is loaded from
 * elsewhere and the server binds 127.0.0.1 unless told otherwise.
 *
 * @module jd-dispute-statecharts/view
 */
export { createStatechartView, startStatechartView, VIEW_HOST } from './server.js';
export type { RunningStatechartView, StartViewOptions, StatechartView, StatechartViewOptions } from './server.js';
export { createViewRecorder } from './recorder.js';
export type { RecorderOptions, ViewRecorder } from './recorder.js';
export { replayWorkflow } from './replay.js';
export type { ReplayOptions, ReplayStore } from './replay.js';
export { coveragePageData, renderCoverageHtml } from './coverage-page.js';
export type { CoveragePageOptions } from './coverage-page.js';
export { chartOf } from './chart.js';
export type { ChartOptions, DelayDurations, StateLabeler } from './chart.js';
export { defaultDurations, defaultStateLabels } from './labels.js';
export { loadViewAssets } from './assets.js';
export type { ViewAssets } from './assets.js';
export type { ChartDefinition, ChartState, ChartTransition, CoveragePageData, DeadlineView, ViewMessage } from './protocol.js';
