/**
 * The durable state store: `dataDir/state.json`, written atomically (temp file, fsync, rename)
 * with a schema version. A missing or corrupt file is moved aside and logged; the reconciler then
 * rebuilds each stack's synced revision and hash from container labels.
 */
export { StateStore, type StateStoreOptions } from './store.js';
export { loadStateFile, writeStateFile, type LoadOutcome } from './file.js';
export { acquireDataDirLock, DataDirLockedError, LockError, LOCK_FILE, type DataDirLock } from './lock.js';
export * from './types.js';
