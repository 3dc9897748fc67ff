import { describePaths } from './suite.js';

describePaths('cancellation', 380);
