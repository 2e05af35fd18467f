export { type DispatcherOptions, type RunningDispatcher, startDispatcher } from './dispatcher.js';
export { dispatcherModule } from './module.js';
export { environmentSecretStore, type SecretStore, secretVariable } from './secrets.js';
