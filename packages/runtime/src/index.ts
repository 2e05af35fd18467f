export { type Infrastructure, startInfrastructure } from './infrastructure.js';
export * from './rules/index.js';
export {
  type RunningService,
  type ServiceContext,
  type ServiceModule,
  type ServiceName,
  serviceNames,
} from './service-module.js';
export { type RunningFuze, startFuze } from './start-fuze.js';
