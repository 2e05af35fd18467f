export { type TargetsRoutesOptions, targetsRoutes } from './targets-routes.js';
