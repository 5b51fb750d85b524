import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeVersionProblem, REQUIRED_NODE } from './required-node';

describe('the required Node.js version', () => {
  it('is what package.json engines says', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    expect(pkg.engines.node).toBe(`>=${REQUIRED_NODE}`);
  });

  it('refuses older versions with one line naming the version needed', () => {
    for (const old of ['v20.19.0', '22.12.0', '22.22.2', 'v18.0.0']) {
      const problem = nodeVersionProblem(old);
      expect(problem).toContain(`Node.js >= ${REQUIRED_NODE}`);
      expect(problem).not.toContain('\n');
    }
  });

  it('accepts the required version and newer ones', () => {
    for (const ok of [REQUIRED_NODE, 'v22.23.5', '23.0.0', 'v24.1.0']) expect(nodeVersionProblem(ok)).toBeUndefined();
  });
});
