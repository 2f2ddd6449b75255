import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's interpreter, which has python3-celery, python3-kombu and python3-redis (scripts/install-test-deps). */
export const PYTHON = '/usr/bin/python3';
const FIXTURES = join(__dirname, '..', 'fixtures');

export interface Inspection {
  readonly status: number | null;
  readonly json: Record<string, any>;
  readonly stderr: string;
}

/** Writes the rendered settings as a module and imports them with python3 + Celery in a clean environment. */
export function inspect(
  source: string,
  opts: { env?: Record<string, string>; flavor?: 'module' | 'django'; stubBoto3?: boolean } = {},
): Inspection {
  const dir = mkdtempSync(join(tmpdir(), 'celery-tls-py-'));
  writeFileSync(join(dir, 'rendered_settings.py'), source);
  const env: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    ...opts.env,
  };
  if (opts.stubBoto3) env.PYTHONPATH = join(FIXTURES, 'stub-boto3');
  const r = spawnSync(
    PYTHON,
    [join(FIXTURES, 'inspect_celery_config.py'), dir, 'rendered_settings', opts.flavor ?? 'module'],
    { env, encoding: 'utf8', timeout: 60_000 },
  );
  const lastLine = r.stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, any>;
  try {
    json = JSON.parse(lastLine);
  } catch {
    throw new Error(
      `python3 printed no JSON (status ${r.status}); is python3-celery installed (scripts/install-test-deps)?\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
    );
  }
  return { status: r.status, json, stderr: r.stderr };
}

export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'celery-tls-fx-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
