/**
 * The engine's images, as the digest watcher needs them: which registry digest a container's image
 * was pulled as (its RepoDigests, cached by image id, which never changes meaning), which digest a
 * local tag resolves to after a pull, and re-tagging an image (a rollback to the digest a service
 * ran before). Through dockerode, never a pull.
 */
import Dockerode from 'dockerode';
import { repoDigestOf } from './digests.js';
import type { ImageReference } from './reference.js';

/** Image ids remembered; older ones are looked up again. */
const CACHE_LIMIT = 1024;

export class LocalImages {
  readonly #docker: Dockerode;
  readonly #repoDigests = new Map<string, readonly string[]>();

  constructor(docker: Dockerode = new Dockerode()) {
    this.#docker = docker;
  }

  /** The image's RepoDigests; [] when it has none or is gone. */
  async repoDigests(image: string): Promise<readonly string[]> {
    const cached = image.startsWith('sha256:') ? this.#repoDigests.get(image) : undefined;
    if (cached !== undefined) return cached;
    const info = await this.#inspect(image);
    if (info === undefined) return [];
    const digests = info.RepoDigests;
    // By id only: a tag moves, an id does not (its RepoDigests only change by a push, pull or rmi).
    if (this.#repoDigests.size >= CACHE_LIMIT) this.#repoDigests.clear();
    if (digests.length > 0) this.#repoDigests.set(info.Id, digests);
    return digests;
  }

  /**
   * The registry digest of `ref`'s repository that `image` (an id or a tag) was pulled or pushed
   * as. A cached answer without that repository is looked up again: one image can be pulled from
   * several repositories, and each pull adds its RepoDigest.
   */
  async digestOf(image: string, ref: ImageReference): Promise<string | undefined> {
    const cached = image.startsWith('sha256:') ? this.#repoDigests.get(image) : undefined;
    const hit = cached === undefined ? undefined : repoDigestOf(cached, ref);
    if (hit !== undefined) return hit;
    this.#repoDigests.delete(image);
    return repoDigestOf(await this.repoDigests(image), ref);
  }

  /** The id of the local image `reference` names, if there is one. */
  async idOf(reference: string): Promise<string | undefined> {
    return (await this.#inspect(reference))?.Id;
  }

  /** Points `ref`'s tag at the image `id` again (the image a service ran before an update). */
  async tag(id: string, ref: ImageReference): Promise<void> {
    const repo = ref.registry === 'docker.io' ? ref.repository.replace(/^library\//, '') : ref.name;
    await this.#docker.getImage(id).tag({ repo, tag: ref.tag ?? 'latest' });
  }

  async #inspect(image: string): Promise<Dockerode.ImageInspectInfo | undefined> {
    try {
      return await this.#docker.getImage(image).inspect();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }
}
