export { buildProgram } from './program.js';
export { serviceModules } from './service-registry.js';
