/**
 * Every Docker label key stackd reads or writes, in one place (DESIGN.md §3). stackd only ever
 * removes or modifies containers whose `io.stackd.managed-by` equals its own `instance`.
 */

export const LABEL_MANAGED_BY = 'io.stackd.managed-by';
export const LABEL_STACK = 'io.stackd.stack';
export const LABEL_REVISION = 'io.stackd.revision';
export const LABEL_COMPOSE_HASH = 'io.stackd.compose-hash';
export const LABEL_SERVICE_HASH = 'io.stackd.service-hash';
/**
 * The registry digest a watched service's image was pulled as (`sha256:…`), set when the
 * container is created and stackd knows it (image updates, DESIGN.md §7); absent otherwise.
 */
export const LABEL_IMAGE_DIGEST = 'io.stackd.image-digest';

/** Labels compose itself puts on the containers it creates. */
export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';
export const COMPOSE_ONEOFF = 'com.docker.compose.oneoff';
export const COMPOSE_CONTAINER_NUMBER = 'com.docker.compose.container-number';

export type StackdLabel =
  | typeof LABEL_MANAGED_BY
  | typeof LABEL_STACK
  | typeof LABEL_REVISION
  | typeof LABEL_COMPOSE_HASH
  | typeof LABEL_SERVICE_HASH;

export const STACKD_LABELS: readonly StackdLabel[] = [
  LABEL_MANAGED_BY,
  LABEL_STACK,
  LABEL_REVISION,
  LABEL_COMPOSE_HASH,
  LABEL_SERVICE_HASH,
];
