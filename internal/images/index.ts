/**
 * Image updates (DESIGN.md §7): the digest watcher, the registry client it asks, the engine's
 * local images, and what the reconciler reads of them. Built once by the runtime.
 */
import type { Clock } from '../../pkg/clock/index.js';
import type { Logger } from '../log/index.js';
import type { UpdatePolicy } from '../source/x_stackd.js';
import { LocalImages } from './local.js';
import { type ImageFacts, imageFacts } from './view.js';
import { type DigestSource, ImageWatcher } from './watcher.js';

export { ImageWatcher, type DigestSource } from './watcher.js';
export type { ImageFacts } from './view.js';
export { LocalImages } from './local.js';
export { parseReference, tagKey, type ImageReference } from './reference.js';

export interface Images {
  readonly watcher: ImageWatcher;
  readonly facts: ImageFacts;
}

export interface ImagesOptions {
  readonly registry: DigestSource;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly instance: string;
  readonly policy: () => UpdatePolicy;
  readonly pollIntervalMs: number;
  readonly local?: LocalImages;
  readonly random?: () => number;
}

/** The watcher and the reconciler's view of it; `onChange` and `onCheck` are bound later (the controller comes after). */
export function createImages(
  options: ImagesOptions,
  hooks: {
    onChange?: (stacks: readonly string[]) => void;
    onCheck?: (result: 'success' | 'failure') => void;
  },
): Images {
  const watcher = new ImageWatcher({
    registry: options.registry,
    logger: options.logger,
    clock: options.clock,
    policy: options.policy,
    pollIntervalMs: options.pollIntervalMs,
    onChange: (stacks) => hooks.onChange?.(stacks),
    onCheck: (result) => hooks.onCheck?.(result),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  const facts = imageFacts({
    watcher,
    local: options.local ?? new LocalImages(),
    instance: options.instance,
    policy: options.policy,
  });
  return { watcher, facts };
}
