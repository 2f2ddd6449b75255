import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CeleryConfig } from '../../lib/core';

const ROOT = join(__dirname, '..', '..');
const manifest = new CeleryConfig({
  broker: {
    scheme: 'amqps',
    host: 'b-1.mq.eu-west-1.on.aws',
    port: 5671,
    vhost: '/',
    username: 'celeryadmin',
    secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:b',
    engine: 'rabbitmq',
    engineVersion: '3.13',
  },
  resultBackend: {
    scheme: 'rediss',
    host: 'master.r.cache.amazonaws.com',
    port: 6380,
    db: 0,
    secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:r',
    engine: 'valkey',
    engineVersion: '8.2',
  },
}).toManifest();

function cli(args: string[], input?: string) {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'bin', 'celery-tls.ts'), ...args],
    { encoding: 'utf8', input, cwd: ROOT, timeout: 60_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'celery-tls-cli-'));
const outputsFile = join(dir, 'outputs.json');
writeFileSync(
  outputsFile,
  JSON.stringify({
    CeleryTlsExample: {
      CeleryBrokerEndpoint7C37EEEA: 'b-1.mq.eu-west-1.on.aws',
      CeleryCeleryManifestD3DC12C9: JSON.stringify(manifest),
    },
  }),
);

describe('celery-tls render', () => {
  test('renders celeryconfig.py from a cdk deploy --outputs-file file', () => {
    const r = cli(['render', '--manifest', outputsFile]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('_celery_tls_amqp_url("CELERY_TLS_BROKER_", {"host": "b-1.mq.eu-west-1.on.aws"');
    expect(r.stdout).toContain(`from ${outputsFile}`);
  });

  test('each format, from standard input, to a file', () => {
    expect(cli(['render', '--manifest', '-', '--format', 'env'], JSON.stringify(manifest)).stdout).toContain(
      'CELERY_TLS_RESULT_BACKEND_PORT=6380',
    );
    expect(cli(['render', '--manifest', '-', '--format', 'django'], JSON.stringify(manifest)).stdout).toContain(
      'CELERY_BROKER_USE_SSL = ',
    );
    expect(JSON.parse(cli(['render', '--manifest', outputsFile, '--format', 'json']).stdout)).toEqual(manifest);
    const out = join(dir, 'celeryconfig.py');
    const r = cli(['render', '--manifest', outputsFile, '--output', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`wrote ${out} (python)`);
    expect(readFileSync(out, 'utf8')).toContain('broker_use_ssl = _celery_tls_broker[1]');
  });

  test.each([
    [['render'], 2, 'render needs --manifest FILE'],
    [['render', '--manifest', outputsFile, '--format', 'yaml'], 2, '--format "yaml" is not allowed'],
    [['render', '--bogus'], 2, "Unknown option '--bogus'"],
    [['deploy'], 2, 'unknown command "deploy"'],
    [['render', '--manifest', join(dir, 'missing.json')], 1, 'ENOENT'],
  ])('%j exits %i with a clear message', (args, status, message) => {
    const r = cli(args as string[]);
    expect(r.status).toBe(status);
    expect(r.stderr).toContain(message);
  });

  test('a plaintext manifest is refused with exit 1', () => {
    const r = cli(
      ['render', '--manifest', '-'],
      JSON.stringify({ ...manifest, resultBackend: { ...manifest.resultBackend, scheme: 'redis' } }),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('resultBackend.scheme "redis" is not allowed: it is plaintext');
  });

  test('--version and --help', () => {
    expect(cli(['--version']).stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(cli(['--help'])).toMatchObject({ status: 0 });
  });
});
