import { describe, expect, it } from '@jest/globals';
import { deriveProjectName, projectNameProblem } from './project.js';

describe('project names', () => {
  it.each([
    ['web', 'web'],
    ['apps/web', 'apps_web'],
    ['Apps/My.Web', 'apps_my_web'],
    ['a-b_c/d e', 'a-b_c_d_e'],
    ['ünï', 'n_'],
    ['_infra', 'infra'],
    ['-x/y', 'x_y'],
  ])('derives %s → %s', (id, project) => {
    expect(deriveProjectName(id)).toBe(project);
  });

  it.each([
    ['web', null],
    ['0web-x_y', null],
    ['_web', /not valid/],
    ['Web', /not valid/],
    ['', /not valid/],
  ])('checks %j', (name, problem) => {
    const result = projectNameProblem(name);
    if (problem === null) expect(result).toBeNull();
    else expect(result).toMatch(problem);
  });
});
