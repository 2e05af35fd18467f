export { buildGatewayApp, type GatewayDeps } from './build-gateway-app.js';
export { EventSchemaRegistry } from './event-schema-registry.js';
export { type EntryResult, EventIngestor } from './ingest.js';
export { gatewayModule } from './module.js';
