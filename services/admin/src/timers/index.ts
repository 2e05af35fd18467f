export { timersRoutes } from './timers-routes.js';
