import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_NAMES } from '../lib/core';

const ROOT = join(__dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  test('every TypeScript snippet is a verbatim excerpt of a file that the build compiles', () => {
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const [first, ...body] = block.split('\n');
      const file = /^\/\/ (\S+\.ts)$/.exec(first)?.[1];
      expect(file).toBeDefined();
      expect(readFileSync(join(ROOT, file!), 'utf8')).toContain(body.join('\n').trimEnd());
    }
  });

  test('shows the commands CI runs', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    for (const command of ['npm ci', 'npx cdk synth', 'npm test']) {
      expect(readme).toContain(command);
      expect(ci).toContain(command);
    }
  });

  test('documents every variable of the environment contract', () => {
    for (const name of Object.values(ENV_NAMES)) {
      expect(readme).toContain(`<P>${name}`);
    }
  });
});
