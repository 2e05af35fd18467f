export type { FuzeConfig, LogLevel } from './fuze-config.js';
export { logLevels } from './fuze-config.js';
export { knownVariablePrefixes, knownVariables, unknownVariableProblems } from './known-variables.js';
export { defaultNatsUrl, loadConfig, redactConfig } from './load-config.js';
