export { schedulerModule } from './module.js';
