/**
 * Observes the Docker engine: lists compose containers once, then follows container events and
 * re-lists only the project an event is about, keeping a cache of projects and their containers.
 * When the engine stops answering it keeps the last projects marked stale and reconnects with
 * backoff; it never runs compose and never inspects containers one by one.
 */
export { createInformer } from './informer.js';
export { EngineUnreachableError } from './engine.js';
export type { InformerLogger, InformerOptions, ReconnectOptions } from './options.js';
export type { Informer, Observation, ObservedContainer, ObservedProject, ProjectListener } from './types.js';
