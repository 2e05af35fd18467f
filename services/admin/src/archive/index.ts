export { type ArchivePagesDeps, openArchivePages, replayExtension } from './archive-pages.js';
export { type ArchiveRoutesOptions, archiveRoutes } from './archive-routes.js';
