import { describe, expect, it } from '@jest/globals';
import { failureReason, stderrTail } from './stderr.js';

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
  it('keeps the last 20 non-empty lines, at most 4 KB', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    expect(stderrTail(lines.join('\n\n')).split('\n')).toEqual(lines.slice(10));
    expect(stderrTail('y'.repeat(10_000))).toHaveLength(4096);
  });
});
