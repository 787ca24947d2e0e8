import { describe, expect, it } from '@jest/globals';
import { displayCommand, splitCommand } from './command.js';

describe('splitCommand', () => {
  it.each([
    ['docker compose', ['docker', 'compose']],
    ['docker-compose', ['docker-compose']],
    ['  /usr/local/bin/docker-compose  ', ['/usr/local/bin/docker-compose']],
    ['"/opt/my tools/docker-compose" --verbose', ['/opt/my tools/docker-compose', '--verbose']],
    ["docker --context 'remote host' compose", ['docker', '--context', 'remote host', 'compose']],
    ['a\\ b c', ['a b', 'c']],
    ['x ""', ['x', '']],
  ])('%s', (command, argv) => {
    expect(splitCommand(command)).toEqual(argv);
  });

  it('rejects an unclosed quote', () => {
    expect(() => splitCommand('"docker compose')).toThrow(/close its " quote/);
  });
});

describe('displayCommand', () => {
  it('quotes only words that need it', () => {
    expect(displayCommand(['docker', 'compose'])).toBe('docker compose');
    expect(displayCommand(['/opt/my tools/dc'])).toBe('"/opt/my tools/dc"');
  });
});

describe('createComposeRunner options', () => {
  it('rejects an empty command and a bad probe timeout loudly', async () => {
    const { createComposeRunner } = await import('./runner.js');
    expect(() => createComposeRunner({ command: '  ' })).toThrow(
      'Expected `command` to be `auto` or a command line, got `"  "` (string)',
    );
    expect(() => createComposeRunner({ probeTimeoutMs: 0 })).toThrow(
      'Expected `probeTimeoutMs` to be a number above 0, got `0` (number)',
    );
  });
});
