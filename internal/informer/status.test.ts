import { describe, expect, it } from '@jest/globals';
import { parseExitCode, parseHealth } from './status.js';

describe('parseExitCode', () => {
  it.each([
    ['Exited (0) 3 seconds ago', 0],
    ['Exited (137) About a minute ago', 137],
    ['Exited (-1) 2 hours ago', -1],
    ['Up 3 seconds', null],
    ['Restarting (1) 2 seconds ago', null],
    ['Created', null],
    ['Dead', null],
  ])('%s → %p', (status, code) => {
    expect(parseExitCode(status)).toBe(code);
  });
});

describe('parseHealth', () => {
  it.each([
    ['Up 3 seconds (healthy)', 'healthy'],
    ['Up 2 minutes (unhealthy)', 'unhealthy'],
    ['Up 1 second (health: starting)', 'starting'],
    ['Up 5 seconds (Paused)', null],
    ['Up 5 seconds', null],
    ['Exited (0) 3 seconds ago', null],
  ])('%s → %p', (status, health) => {
    expect(parseHealth(status)).toBe(health);
  });
});
