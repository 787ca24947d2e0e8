/**
 * What the reconciler asks about a stack's images (`ImageFacts`): for each watched service, the
 * digest it runs, the one its registry serves (the watcher's last check), the one that failed, and
 * so the one the apply must run; after a pull, which digest the local tag now is; and a rollback's
 * re-tag. Built from the watcher and the engine's local images.
 */
import type { ObservedProject } from '../informer/types.js';
import { LABEL_IMAGE_DIGEST, LABEL_MANAGED_BY } from '../labels/index.js';
import type { DesiredStack } from '../source/types.js';
import { type UpdatePolicy, effectivePolicy } from '../source/x_stackd.js';
import { type ServiceDigest, type StackDigests, watchableReference } from './digests.js';
import type { LocalImages } from './local.js';
import { parseReference } from './reference.js';
import type { ImageWatcher } from './watcher.js';

export interface ImageFacts {
  /**
   * The watched services of `stack` as `observed` runs them; `rejected` (by service) are digests
   * not applied again unless `force` (a manual sync). Empty when nothing of it is watched.
   */
  digests(
    stack: DesiredStack,
    observed: ObservedProject | undefined,
    rejected: Readonly<Record<string, { readonly digest: string }>> | null | undefined,
    force: boolean,
  ): Promise<StackDigests>;
  /** The digest the local image `image` (a reference) was pulled as, if known. */
  localDigest(image: string): Promise<string | undefined>;
  /** Points `image`'s tag at the local image `id` again (a rollback). */
  restore(id: string, image: string): Promise<void>;
  /** The pull of `image` failed: what the watcher knew of it is forgotten until the next check. */
  forget(image: string): void;
}

export function imageFacts(options: {
  readonly watcher: ImageWatcher;
  readonly local: LocalImages;
  readonly instance: string;
  readonly policy: () => UpdatePolicy;
}): ImageFacts {
  const { watcher, local, instance } = options;
  return {
    async digests(stack, observed, rejected, force) {
      const out = new Map<string, ServiceDigest>();
      const global = options.policy();
      for (const [name, service] of stack.services) {
        const policy = effectivePolicy(service, global);
        const ref = policy === 'off' ? null : watchableReference(service);
        if (policy === 'off' || ref === null || typeof service.image !== 'string') continue;
        const container = observed?.containers.find(
          (c) => c.service === name && c.labels[LABEL_MANAGED_BY] === instance,
        );
        const running =
          container === undefined
            ? undefined
            : (container.labels[LABEL_IMAGE_DIGEST] ??
              (await local.digestOf(container.imageId ?? container.image, ref).catch(() => undefined)));
        const available = watcher.available(service.image)?.digest;
        const refused = rejected?.[name]?.digest;
        const want =
          policy === 'digest' &&
          available !== undefined &&
          running !== undefined &&
          available !== running &&
          (force || available !== refused)
            ? available
            : undefined;
        out.set(name, {
          policy,
          image: service.image,
          ...(running === undefined ? {} : { running }),
          ...(available === undefined ? {} : { available }),
          ...(refused === undefined ? {} : { rejected: refused }),
          ...(want === undefined ? {} : { want }),
        });
      }
      return out;
    },
    async localDigest(image) {
      const ref = parseReference(image);
      return ref === null ? undefined : local.digestOf(image, ref).catch(() => undefined);
    },
    async restore(id, image) {
      const ref = parseReference(image);
      if (ref === null) throw new Error(`not an image reference: ${image}`);
      await local.tag(id, ref);
    },
    forget(image) {
      watcher.forget(image);
    },
  };
}
