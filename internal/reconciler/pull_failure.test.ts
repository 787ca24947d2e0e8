import { describe, expect, it } from '@jest/globals';
import { classify } from './classify.js';
import { ReconcileError } from './errors.js';
import { composeExited, desiredStack } from './fixtures.test-helpers.js';
import { pullFailureMessage, registryOf } from './pull_failure.js';

const stack = desiredStack('apps', {
  web: { image: 'localhost:5000/team/web:1' },
  db: { image: 'localhost:5000/db:2' },
  cache: { image: 'redis:7' },
});

/** The message for compose's stderr `stderr`, classified as stackd would. */
function message(stderr: string): string | undefined {
  const error = composeExited(stderr);
  return pullFailureMessage(stack, error, classify(error));
}

describe('pullFailureMessage', () => {
  it('names the image, its service and its registry when v2 says no credentials', () => {
    expect(
      message(
        ' web Pulling \n db Pulling \n web Error Head "http://localhost:5000/v2/team/web/manifests/1": no basic auth credentials\n db Interrupted \nError response from daemon: Head "http://localhost:5000/v2/team/web/manifests/1": no basic auth credentials',
      ),
    ).toBe(
      'pulling localhost:5000/team/web:1 (service web) failed: localhost:5000 denied access (Head "http://localhost:5000/v2/team/web/manifests/1": no basic auth credentials); stackd pulls with the logins of registry.authFile and dataDir/docker/config.json: check the one for localhost:5000',
    );
  });

  it('names the service v2 says failed when the reason names no image (a wrong password)', () => {
    expect(
      message(
        ' db Error unauthorized: authentication required\nError response from daemon: unauthorized: authentication required',
      ),
    ).toMatch(
      /^pulling localhost:5000\/db:2 \(service db\) failed: localhost:5000 denied access \(unauthorized: authentication required\)/,
    );
  });

  it('takes v1 service and image from its Pulling line', () => {
    expect(
      message(
        'Creating network "apps_default" with the default driver\nPulling db (localhost:5000/db:2)...\nunauthorized: authentication required',
      ),
    ).toMatch(
      /^pulling localhost:5000\/db:2 \(service db\) failed: localhost:5000 denied access \(unauthorized: authentication required\)/,
    );
  });

  it('says not found for an image the registry does not have, and finds the service by the image', () => {
    expect(
      message(
        'Error response from daemon: manifest for localhost:5000/team/web:1 not found: manifest unknown: manifest unknown',
      ),
    ).toBe(
      'pulling localhost:5000/team/web:1 (service web) failed: not found in localhost:5000 (manifest for localhost:5000/team/web:1 not found: manifest unknown: manifest unknown)',
    );
    expect(
      message(
        "Error response from daemon: pull access denied for redis, repository does not exist or may require 'docker login'",
      ),
    ).toMatch(/^pulling redis:7 \(service cache\) failed: not found in docker\.io/);
  });

  it('leaves every other failure, and a failed build, to the message it had', () => {
    expect(message('Bind for 0.0.0.0:80 failed: port is already allocated')).toBeUndefined();
    const build = new ReconcileError('apps', 'building web failed: …', {
      cause: composeExited('unauthorized: authentication required'),
      failure: 'pull_denied',
    });
    expect(pullFailureMessage(stack, build, 'pull_denied')).toBeUndefined();
  });

  it.each([
    ['redis:7', 'docker.io'],
    ['library/redis', 'docker.io'],
    ['localhost/x', 'localhost'],
    ['localhost:5000/x:1', 'localhost:5000'],
    ['ghcr.io/o/p:1', 'ghcr.io'],
  ])('registryOf(%s) = %s', (image, registry) => {
    expect(registryOf(image)).toBe(registry);
  });
});
