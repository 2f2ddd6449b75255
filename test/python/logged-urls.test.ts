import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CeleryConfig } from '../../lib/core';
import { PYTHON_RUNTIME } from '../../lib/core/celery/python-runtime';
import { PYTHON } from './harness';

/**
 * Celery 5.5 logs the broker URL, password included, from celery/worker/consumer/delayed_delivery.py (at WARNING when
 * native delayed delivery fails to set up, at DEBUG always). The settings mask URLs in that logger's records.
 */
function logThrough(install: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'celery-tls-log-'));
  writeFileSync(join(dir, 'celery_tls_runtime.py'), PYTHON_RUNTIME);
  const script = [
    'import io, logging, sys',
    `sys.path.insert(0, ${JSON.stringify(dir)})`,
    'import celery_tls_runtime as r',
    install ? 'r._celery_tls_mask_logged_urls(); r._celery_tls_mask_logged_urls()' : 'pass',
    'out = io.StringIO()',
    'h = logging.StreamHandler(out)',
    'logger = logging.getLogger("celery.worker.consumer.delayed_delivery")',
    'logger.addHandler(h); logger.setLevel(logging.DEBUG)',
    'logger.warning("Failed to bind queues for %r: %s", "amqps://celery:s3cr3t%2Fpw@b-1.mq.eu-west-1.on.aws:5671/celery", "boom")',
    'print(out.getvalue().strip()); print(len(logger.filters))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

test('without the filter the password is in the line (the trap is real on this logger)', () => {
  expect(logThrough(false)).toContain('s3cr3t');
});

test('with it the URL is masked, the rest of the line kept, and installing twice adds one filter', () => {
  const [line, filters] = logThrough(true).trim().split('\n');
  expect(line).not.toContain('s3cr3t');
  expect(line).toContain("Failed to bind queues for 'amqps://celery:**@b-1.mq.eu-west-1.on.aws:5671/celery': boom");
  expect(filters).toBe('1');
});

test('the settings install it wherever native delayed delivery is on (RabbitMQ 4)', () => {
  const broker = { scheme: 'amqps' as const, host: 'b-1.mq.eu-west-1.on.aws', port: 5671, engine: 'rabbitmq' };
  const module = (engineVersion: string) => new CeleryConfig({ broker: { ...broker, engineVersion } }).toPythonModule();
  expect(module('4.2')).toMatch(/^_celery_tls_mask_logged_urls\(\)$/m);
  expect(module('3.13')).not.toMatch(/^_celery_tls_mask_logged_urls\(\)$/m);
});
