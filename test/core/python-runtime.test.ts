import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PYTHON_RUNTIME } from '../../lib/core/celery/python-runtime';

const ROOT = join(__dirname, '..', '..');
const MARKER = '# ---- embedded from here on ----\n';

describe('the Python runtime embedded from lib/core/celery/runtime.py', () => {
  const source = readFileSync(join(ROOT, 'lib', 'core', 'celery', 'runtime.py'), 'utf8');

  test('the generated module is up to date with the .py file (else: node scripts/embed-python.mjs)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'embed-python.mjs'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('PYTHON_RUNTIME is the .py file after its marker line, byte for byte', () => {
    const at = source.indexOf(MARKER);
    expect(at).toBeGreaterThan(0);
    expect(PYTHON_RUNTIME).toBe(source.slice(at + MARKER.length));
  });

  test('the header above the marker is comments only, so it is never embedded and never runs', () => {
    const header = source.slice(0, source.indexOf(MARKER)).split('\n').slice(0, -1);
    expect(header.every((line) => line === '#' || line.startsWith('# '))).toBe(true);
    expect(PYTHON_RUNTIME).not.toContain('embed-python');
  });
});
