export { type BusesRoutesOptions, busesRoutes } from './buses-routes.js';
