export { routerModule } from './module.js';
