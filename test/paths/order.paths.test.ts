import { describePaths } from './suite.js';

// The composition: order, dispute and cancel orders as one actor system (src/engine/step.ts).
describePaths('order', 193);
