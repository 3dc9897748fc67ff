import { describePaths } from './suite.js';

describePaths('dispute', 13);
