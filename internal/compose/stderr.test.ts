import { describe, expect, it } from '@jest/globals';
import { buildFailureReason, buildOutputTail, failureReason, stderrTail } from './stderr.js';
import { INSTALL_V2, v2OnlyFeature, v2OnlyHint } from './v2_only.js';

describe('failureReason', () => {
  it('takes the last line of a v2 validation error', () => {
    expect(
      failureReason('validating /s/compose.yaml: services.web Additional property imagee is not allowed\n'),
    ).toBe('validating /s/compose.yaml: services.web Additional property imagee is not allowed');
  });

  it('takes the detail after v1 "is invalid because:"', () => {
    const stderr =
      "ERROR: The Compose file './compose.yaml' is invalid because:\nUnsupported config option for services.web: 'imagee'\n";
    expect(failureReason(stderr)).toBe("Unsupported config option for services.web: 'imagee'");
  });

  it('skips v1 generic summary and v2 progress noise', () => {
    expect(
      failureReason(
        'Creating p_web_1 ... error\nERROR: for web  Cannot start service web: oci runtime error\nERROR: Encountered errors while bringing up the project.\n',
      ),
    ).toBe('for web  Cannot start service web: oci runtime error');
    expect(
      failureReason(
        ' Container p-web-1  Creating\nError response from daemon: no such image\n Container p-db-1  Created\n',
      ),
    ).toBe('Error response from daemon: no such image');
  });

  it.each([
    [
      'env file /etc/x: line 1: unexpected character "\\"" in variable name "PASS\\"WORD=hunter2"',
      'env file /etc/x: line 1: unexpected character "…" in variable name "…" (the file\'s content is not shown)',
    ],
    [
      'line 2: unterminated quoted value "root:$6$hash',
      'line 2: unterminated quoted value "…" (the file\'s content is not shown)',
    ],
    ['Invalid template: "${SECRET_VALUE"', 'Invalid template: "…" (the file\'s content is not shown)'],
  ])("never carries a file's content: %s", (stderr, reason) => {
    expect(failureReason(stderr)).toBe(reason);
    expect(failureReason(stderr)).not.toMatch(/hunter2|hash|SECRET_VALUE/);
  });

  it('keeps quotes that are not file content', () => {
    expect(failureReason('service "web" refers to undefined network "front"')).toBe(
      'service "web" refers to undefined network "front"',
    );
  });

  it('strips ANSI codes and cuts long lines', () => {
    expect(failureReason('\u001b[31mError: bad thing\u001b[0m')).toBe('bad thing');
    expect(failureReason('x'.repeat(1000))).toHaveLength(300);
  });
});

describe('stderrTail', () => {
  it('keeps the last 20 non-empty lines, at most 2 KiB', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    expect(stderrTail(lines.join('\n\n')).split('\n')).toEqual(lines.slice(10));
    expect(stderrTail('y'.repeat(10_000))).toHaveLength(2048);
    // Whole lines are dropped at the front until it fits.
    const long = Array.from({ length: 10 }, (_, i) => `${i}${'z'.repeat(299)}`);
    expect(stderrTail(long.join('\n')).split('\n')).toEqual(long.slice(4));
    // Never half a character.
    const tail = stderrTail('é'.repeat(3000));
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(2048);
    expect(tail).toMatch(/^é+$/);
  });

  it('withholds quoted file content in every line, as the reason does', () => {
    const tail = stderrTail(
      'env file /etc/x: line 1: unexpected character "\\"" in variable name "PASS\\"WORD=hunter2"\n',
    );
    expect(tail).not.toContain('hunter2');
    expect(tail).toContain("(the file's content is not shown)");
  });
});

/**
 * stderr of compose v2 2.26.1 and v1 1.29.2 on the development machine (stderr not a terminal,
 * `config -q` unless `up` is said), for each kind of rejected stack.
 */
const SAMPLES = {
  v2: {
    yaml: 'yaml: line 1: did not find expected key\n',
    unknownKey:
      'validating /tmp/cs/unknown/compose.yaml: services.web Additional property imagee is not allowed\n',
    interpolation:
      'invalid interpolation format for services.web.image.\nYou may need to escape any $ with another $.\nstackd-test/busybox:${TAG\n',
    undefinedNetwork: 'service "web" refers to undefined network front: invalid compose project\n',
    unsetVariable:
      'time="2026-12-01T19:18:23Z" level=warning msg="The \\"NOPE\\" variable is not set. Defaulting to a blank string."\nvalidating /tmp/cs/unsetvar/compose.yaml: services.web Additional property imagee is not allowed\n',
    missingImage:
      ' Network csmi_default  Creating\n Network csmi_default  Created\n Container csmi-web-1  Creating\nError response from daemon: no such image: stackd-test/nonexistent:9: No such image: stackd-test/nonexistent:9\n',
    portInUse:
      ' Network csport_default  Creating\n Network csport_default  Created\n Container csport-web-1  Creating\n Container csport-web-1  Created\n Container csport-web-1  Starting\nError response from daemon: driver failed programming external connectivity on endpoint csport-web-1 (0fde74ed13ef): Error starting userland proxy: listen tcp4 127.0.0.1:18977: bind: address already in use\n',
    missingFile: 'open /tmp/cs/unknown/nope.yaml: no such file or directory\n',
    unknownFlag: "unknown flag: --bogus\nSee 'docker --help'.\n",
  },
  v1: {
    yaml: 'yaml.parser.ParserError: while parsing a block mapping\n  in "./compose.yaml", line 2, column 3\nexpected <block end>, but found \'<block mapping start>\'\n  in "./compose.yaml", line 4, column 4\n',
    unknownKey:
      "The Compose file './compose.yaml' is invalid because:\nUnsupported config option for services.web: 'imagee'\n",
    name: "The Compose file './compose.yaml' is invalid because:\n'name' does not match any of the regexes: '^x-'\n\nYou might be seeing this error because you're using the wrong Compose file version. Either specify a supported version (e.g \"2.2\" or \"3.3\") and place your service definitions under the `services` key, or omit the `version` key and place your service definitions at the root of the file to use version 1.\nFor more on the Compose file format versions, see https://docs.docker.com/compose/compose-file/\n",
    include:
      "The Compose file './compose.yaml' is invalid because:\n'include' does not match any of the regexes: '^x-'\n\nYou might be seeing this error because you're using the wrong Compose file version. Either specify a supported version (e.g \"2.2\" or \"3.3\") and place your service definitions under the `services` key, or omit the `version` key and place your service definitions at the root of the file to use version 1.\nFor more on the Compose file format versions, see https://docs.docker.com/compose/compose-file/\n",
    develop:
      "The Compose file './compose.yaml' is invalid because:\nUnsupported config option for services.web: 'develop'\n",
    dependsOnRestart:
      "The Compose file './compose.yaml' is invalid because:\nservices.web.depends_on contains unsupported option: 'restart'\n",
    reset:
      'yaml.constructor.ConstructorError: could not determine a constructor for the tag \'!reset\'\n  in "./compose.yaml", line 4, column 12\n',
    interpolation:
      'Invalid interpolation format for "image" option in service "web": "stackd-test/busybox:${TAG"\n',
    badType:
      "The Compose file './compose.yaml' is invalid because:\nservices.web.ports contains an invalid type, it should be an array\n",
    unsetVariable:
      "The NOPE variable is not set. Defaulting to a blank string.\nThe Compose file './compose.yaml' is invalid because:\nUnsupported config option for services.web: 'imagee'\n",
    portInUse:
      'Creating network "csport_default" with the default driver\nCreating csport_web_1 ... \r\nHost is already in use by another container\nCreating csport_web_1 ... error\r\n\nERROR: for csport_web_1  Cannot start service web: driver failed programming external connectivity on endpoint csport_web_1 (f143abbdd885): Error starting userland proxy: listen tcp4 127.0.0.1:18977: bind: address already in use\n\nERROR: for web  Cannot start service web: driver failed programming external connectivity on endpoint csport_web_1 (f143abbdd885): Error starting userland proxy: listen tcp4 127.0.0.1:18977: bind: address already in use\nEncountered errors while bringing up the project.\n',
    pullFailed:
      'Creating network "csmi_default" with the default driver\nPulling web (stackd-test/nonexistent:9)...\nGet "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host\n',
  },
} as const;

describe('failureReason on real compose output', () => {
  it.each([
    [SAMPLES.v2.yaml, 'yaml: line 1: did not find expected key'],
    [
      SAMPLES.v2.unknownKey,
      'validating /tmp/cs/unknown/compose.yaml: services.web Additional property imagee is not allowed',
    ],
    [SAMPLES.v2.interpolation, 'invalid interpolation format for services.web.image.'],
    [SAMPLES.v2.undefinedNetwork, 'service "web" refers to undefined network front: invalid compose project'],
    [
      SAMPLES.v2.unsetVariable,
      'validating /tmp/cs/unsetvar/compose.yaml: services.web Additional property imagee is not allowed',
    ],
    [
      SAMPLES.v2.missingImage,
      'Error response from daemon: no such image: stackd-test/nonexistent:9: No such image: stackd-test/nonexistent:9',
    ],
    [SAMPLES.v2.missingFile, 'open /tmp/cs/unknown/nope.yaml: no such file or directory'],
    [SAMPLES.v2.unknownFlag, 'unknown flag: --bogus'],
    [
      SAMPLES.v1.yaml,
      'yaml.parser.ParserError: while parsing a block mapping in "./compose.yaml", line 2, column 3 expected <block end>, but found \'<block mapping start>\' in "./compose.yaml", line 4, column 4',
    ],
    [SAMPLES.v1.unknownKey, "Unsupported config option for services.web: 'imagee'"],
    [SAMPLES.v1.name, "'name' does not match any of the regexes: '^x-'"],
    [SAMPLES.v1.include, "'include' does not match any of the regexes: '^x-'"],
    [SAMPLES.v1.develop, "Unsupported config option for services.web: 'develop'"],
    [SAMPLES.v1.dependsOnRestart, "services.web.depends_on contains unsupported option: 'restart'"],
    [
      SAMPLES.v1.reset,
      'yaml.constructor.ConstructorError: could not determine a constructor for the tag \'!reset\' in "./compose.yaml", line 4, column 12',
    ],
    [
      SAMPLES.v1.interpolation,
      'Invalid interpolation format for "image" option in service "web": "stackd-test/busybox:${TAG"',
    ],
    [SAMPLES.v1.badType, 'services.web.ports contains an invalid type, it should be an array'],
    [SAMPLES.v1.unsetVariable, "Unsupported config option for services.web: 'imagee'"],
    [
      SAMPLES.v1.pullFailed,
      'Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host',
    ],
  ])("sample %#: picks compose's meaningful line", (stderr, reason) => {
    expect(failureReason(stderr)).toBe(reason);
  });

  it('takes the first error line, not the repeated summary, of a v1 up', () => {
    expect(failureReason(SAMPLES.v1.portInUse)).toMatch(
      /^for csport_web_1 {2}Cannot start service web: .*bind: address already in use$/,
    );
    expect(failureReason(SAMPLES.v2.portInUse)).toMatch(
      /^Error response from daemon: .*address already in use$/,
    );
  });

  it('never picks the boilerplate', () => {
    for (const stderr of [...Object.values(SAMPLES.v1), ...Object.values(SAMPLES.v2)]) {
      expect(failureReason(stderr)).not.toMatch(
        /For more on the Compose file|You might be seeing this error|--help|Encountered errors|You may need to escape/,
      );
    }
    expect(failureReason("Run 'docker compose --help' for more information\n")).toBe(
      "Run 'docker compose --help' for more information",
    );
  });

  it('falls back to the first plain line, then a warning, then the last line', () => {
    expect(failureReason('WARNING: something odd\nthe real trouble\nmore\n')).toBe('the real trouble');
    expect(failureReason('WARNING: only a warning\n')).toBe('WARNING: only a warning');
    expect(failureReason(' Container p-web-1  Starting\n Container p-web-1  Started\n')).toBe(
      'Container p-web-1  Started',
    );
    expect(failureReason('')).toBe('');
  });
});

describe('v2OnlyHint', () => {
  it.each([
    [SAMPLES.v1.name, 'name', 'a top-level compose v2 key'],
    [SAMPLES.v1.include, 'include', 'a top-level compose v2 key'],
    [SAMPLES.v1.develop, 'develop', 'a compose v2 key'],
    [
      "The Compose file './compose.yaml' is invalid because:\nUnsupported config option for services.web: 'attach'\n",
      'attach',
      'a compose v2 key',
    ],
    [
      "The Compose file './compose.yaml' is invalid because:\nUnsupported config option for services.web: 'annotations'\n",
      'annotations',
      'a compose v2 key',
    ],
    [SAMPLES.v1.dependsOnRestart, 'depends_on.restart', 'a compose v2 key'],
    [SAMPLES.v1.reset, '!reset', 'a compose v2 YAML tag'],
    [SAMPLES.v1.reset.replace('!reset', '!override'), '!override', 'a compose v2 YAML tag'],
  ])('sample %#: names the feature', (stderr, feature, what) => {
    expect(v2OnlyFeature(stderr)).toBe(feature);
    expect(v2OnlyHint(stderr)).toBe(
      `compose v1 does not support \`${feature}\` (${what}): ${INSTALL_V2}; see stackd's README, "Compose v1 and v2"`,
    );
  });

  it('says nothing for errors that are not about a v2 feature', () => {
    for (const stderr of [
      SAMPLES.v1.unknownKey,
      SAMPLES.v1.yaml,
      SAMPLES.v1.badType,
      SAMPLES.v1.portInUse,
      // A typo at the top level reads like `name:` under v1, but is not a v2 key.
      "The Compose file './compose.yaml' is invalid because:\n'servics' does not match any of the regexes: '^x-'\n",
      ...Object.values(SAMPLES.v2),
    ]) {
      expect(v2OnlyHint(stderr)).toBeUndefined();
    }
  });

  it('names the packages and STACKD_COMPOSE_COMMAND', () => {
    expect(INSTALL_V2).toMatch(/docker-compose-plugin.*docker-compose-v2.*STACKD_COMPOSE_COMMAND/);
  });
});

describe('build output', () => {
  const buildkit = [
    '#0 building with "default" instance using docker driver',
    '#1 [app internal] load build definition from Dockerfile',
    '#1 transferring dockerfile: 102B 0.0s done',
    '#1 DONE 0.1s',
    '#4 [app 1/2] FROM docker.io/stackd-test/busybox:1',
    '#4 CACHED',
    '#5 [app 2/2] RUN echo "marker" && exit 3',
    '#5 0.501 marker',
    '#5 ERROR: executor failed running [/bin/sh -c echo "marker" && exit 3]: exit code: 3',
    '------',
    ' > [app 2/2] RUN echo "marker" && exit 3:',
    '0.501 marker',
    '------',
    'failed to solve: executor failed running [/bin/sh -c echo "marker" && exit 3]: exit code: 3',
  ].join('\n');
  const v1Stderr = [
    'Building app',
    'DEPRECATED: The legacy builder is deprecated and will be removed in a future release.',
    '            Install the buildx component to build images with BuildKit:',
    '            https://docs.docker.com/go/buildx/',
    '',
    "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    "Service 'app' failed to build : Build failed",
  ].join('\n');
  const v1Output = [
    'Building app',
    'Sending build context to Docker daemon  3.072kB',
    'Step 1/2 : FROM stackd-test/busybox:1',
    ' ---> d288acb57c51',
    'Step 2/2 : RUN exit 3',
    ' ---> Running in 09ba408986c2',
    "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    "Service 'app' failed to build : Build failed",
  ].join('\n');

  it('the reason: BuildKit’s failed to solve, the classic builder’s failed command, not v1’s header or notice', () => {
    expect(buildFailureReason(buildkit.split('\n').at(-1) ?? '')).toBe(
      'failed to solve: executor failed running [/bin/sh -c echo "marker" && exit 3]: exit code: 3',
    );
    expect(buildFailureReason(v1Stderr)).toBe("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    expect(buildFailureReason('', 'Step 1/1 : FROM nope\nERROR: pull access denied for nope')).toBe(
      'pull access denied for nope',
    );
  });

  it('the tail: the last steps and their output, without bookkeeping nor the reason line', () => {
    const reason = buildFailureReason(buildkit.split('\n').at(-1) ?? '');
    expect(buildOutputTail(buildkit, reason)).toBe(
      [
        '#1 [app internal] load build definition from Dockerfile',
        '#4 [app 1/2] FROM docker.io/stackd-test/busybox:1',
        '#5 [app 2/2] RUN echo "marker" && exit 3',
        '#5 0.501 marker',
        '#5 ERROR: executor failed running [/bin/sh -c echo "marker" && exit 3]: exit code: 3',
        '> [app 2/2] RUN echo "marker" && exit 3:',
        '0.501 marker',
      ].join(' | '),
    );
    expect(buildOutputTail(v1Output, "The command '/bin/sh -c exit 3' returned a non-zero code: 3", 3)).toBe(
      'Step 1/2 : FROM stackd-test/busybox:1 | Step 2/2 : RUN exit 3',
    );
    expect(buildOutputTail(`${'x'.repeat(300)}\n`)).toBe(`${'x'.repeat(199)}…`);
  });
});
