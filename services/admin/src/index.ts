export { type AdminDeps, buildAdminApp } from './build-admin-app.js';
export { adminModule } from './module.js';
