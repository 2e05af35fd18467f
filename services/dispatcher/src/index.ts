export { dispatcherModule } from './module.js';
