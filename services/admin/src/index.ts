export { type AdminDeps, buildAdminApp } from './build-admin-app.js';
export { adminModule } from './module.js';
export { type ApplyResult, applyRuleFiles, type RuleFile } from './rules/index.js';
