export {
  type ApplyOptions,
  type ApplyResult,
  announceRuleRevisions,
  applyRuleFiles,
  type RuleFile,
} from './apply-rule-files.js';
export { ruleTestingRoutes } from './rule-testing-routes.js';
export { rulesRoutes } from './rules-routes.js';
