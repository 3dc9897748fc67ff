import { describePaths } from './suite.js';

// The composition: the order and the dispute and cancel orders it invokes, run as one actor system.
describePaths('order', 183);
