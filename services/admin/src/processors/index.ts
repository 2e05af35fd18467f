export { type StateRoutesOptions, stateRoutes } from './state-routes.js';
