export { type CatalogBus, type CatalogRule, loadRuleCatalog, type RuleCatalog } from './rule-catalog.js';
export { RulesWatcher, type RulesWatcherOptions } from './rules-watcher.js';
