import { describePaths } from './suite.js';

describePaths('cancellation', 390);
