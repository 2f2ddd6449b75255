// npm run lint:python: Debian's pyflakes (scripts/install-test-deps installs it) on the Python sources of the
// rendered settings (lib/core/celery/*.py), then on whole rendered settings: the example app's celeryconfig.py and
// Django block per role, written to a temporary directory by scripts/render-example.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Debian's interpreter, as in the tests: its pyflakes is the one installed, whatever python3 is first on PATH.
const python = '/usr/bin/python3';

function run(command, args, what) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    console.error(`lint:python: ${what} failed`);
    process.exit(r.status ?? 1);
  }
}

const probe = spawnSync(python, ['-m', 'pyflakes', '--version'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error(`lint:python: ${python} -m pyflakes is not available: run bash scripts/install-test-deps`);
  process.exit(1);
}

const sourceDir = join(root, 'lib', 'core', 'celery');
const sources = readdirSync(sourceDir)
  .filter((name) => name.endsWith('.py'))
  .map((name) => relative(root, join(sourceDir, name)));
run(python, ['-m', 'pyflakes', ...sources], `pyflakes on ${sources.join(', ')}`);

const dir = mkdtempSync(join(tmpdir(), 'celery-tls-lint-python-'));
try {
  run(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/render-example.ts', dir],
    'rendering',
  );
  const rendered = readdirSync(dir).map((name) => join(dir, name));
  run(python, ['-m', 'pyflakes', ...rendered], 'pyflakes on the rendered settings');
  console.log(`lint:python: pyflakes clean on ${sources.join(', ')} and ${rendered.length} rendered settings files`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
