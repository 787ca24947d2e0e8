import { describe, expect, it } from '@jest/globals';
import { ComposeUnavailableError } from '../compose/errors.js';
import { EngineUnreachableError } from '../informer/index.js';
import { FAILURE_CAUSES } from '../status/index.js';
import { classify, isDeterministic } from './classify.js';
import { ReconcileError, TerminalReconcileError } from './errors.js';
import { composeExited, composeTimedOut } from './fixtures.test-helpers.js';

const exited = composeExited;

describe('classify: one attempt per commit', () => {
  it.each([
    [
      'port taken',
      exited(
        'Error response from daemon: driver failed programming external connectivity on endpoint web-1: Bind for 0.0.0.0:8080 failed: port is already allocated',
      ),
      'port_in_use',
    ],
    ['address in use', exited('listen tcp4 0.0.0.0:53: bind: address already in use'), 'port_in_use'],
    [
      'no such image (v2)',
      exited(
        'Error response from daemon: pull access denied for app, repository does not exist or may require docker login',
      ),
      'image_missing',
    ],
    [
      'manifest unknown',
      exited('Error response from daemon: manifest for app:9 not found: manifest unknown'),
      'image_missing',
    ],
    [
      'no credentials (v2, a registry with basic auth)',
      exited(
        ' a Pulling \n a Error Head "http://localhost:5000/v2/x/manifests/1": no basic auth credentials\nError response from daemon: Head "http://localhost:5000/v2/x/manifests/1": no basic auth credentials',
      ),
      'pull_denied',
    ],
    [
      'wrong password (v2)',
      exited(
        ' a Error unauthorized: authentication required\nError response from daemon: unauthorized: authentication required',
      ),
      'pull_denied',
    ],
    [
      'wrong password (v1)',
      exited('Pulling a (localhost:5000/x:1)...\nunauthorized: authentication required'),
      'pull_denied',
    ],
    [
      'no access (Docker Hub, an existing private repository)',
      exited(
        'Error response from daemon: Head "https://registry-1.docker.io/v2/o/p/manifests/1": denied: requested access to the resource is denied',
      ),
      'pull_denied',
    ],
    [
      'not found in a private registry',
      exited(
        'Error response from daemon: manifest for localhost:5000/nothere:1 not found: manifest unknown: manifest unknown',
      ),
      'image_missing',
    ],
    [
      'a permission denied is no pull denial',
      exited(
        "Error response from daemon: error while creating mount source path '/x': mkdir /x: permission denied: unknown",
      ),
      'compose_failed',
    ],
    [
      'registry down',
      exited(
        'Error response from daemon: Get "https://registry.example/v2/": dial tcp: lookup registry.example: no such host',
      ),
      'registry_unreachable',
    ],
    [
      'registry slow',
      exited('Get "https://r.example/v2/": net/http: TLS handshake timeout'),
      'registry_unreachable',
    ],
    [
      'engine gone',
      exited(
        'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      ),
      'engine_unreachable',
    ],
    [
      'other compose error',
      exited('service "web" refers to undefined network front: invalid compose project'),
      'compose_failed',
    ],
    ['compose timed out', composeTimedOut(), 'timed_out'],
    [
      'engine unreachable',
      new EngineUnreachableError('connect ENOENT /var/run/docker.sock', 'unix:///var/run/docker.sock'),
      'engine_unreachable',
    ],
    ['no compose at all', new ComposeUnavailableError('no compose', 'docker compose'), 'compose_failed'],
    [
      'readiness',
      new ReconcileError('web', 'service app exited with code 1', { failure: 'not_ready' }),
      'not_ready',
    ],
    [
      'wrapped compose error',
      new ReconcileError('web', 'x', {
        cause: exited('Bind for 0.0.0.0:80 failed: port is already allocated'),
      }),
      'port_in_use',
    ],
    [
      'rejected files',
      new TerminalReconcileError('web', 'compose rejected', { failure: 'invalid' }),
      'invalid',
    ],
    ['anything else', new Error('boom'), 'compose_failed'],
  ] as const)('%s → %s', (_name, error, cause) => {
    expect(classify(error)).toBe(cause);
  });

  it('holds the causes retrying cannot fix and retries the others', () => {
    expect(FAILURE_CAUSES.filter((c) => isDeterministic(c))).toEqual([
      'invalid',
      'not_ready',
      'crash_loop',
      'port_in_use',
      'image_missing',
      'pull_denied',
      'build_failed',
    ]);
  });
});
