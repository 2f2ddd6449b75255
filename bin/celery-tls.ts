#!/usr/bin/env node
/**
 * celery-tls: Celery settings for TLS-only brokers and result backends.
 *   render  settings from a manifest; dev  a local TLS environment; verify  audit TLS endpoints.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DevEnvironment } from '../lib/dev/environment';
import { DEFAULT_STACK_ROOT, differencesFromProduction, isStackRoot } from '../lib/dev/stack';
import {
  CELERY_CONFIG_FORMATS,
  CeleryConfig,
  CeleryConfigFormat,
  DEFAULTS,
  VERSION,
  ValidationError,
} from '../lib/index';
import { TargetOverrides, targetFromUrl, targetsFromConfig } from '../lib/verify/targets';
import { VerifyTarget, formatReports, reportOk, verifyEndpoint } from '../lib/verify/verify';

const USAGE = `celery-tls ${VERSION}: Celery settings for TLS-only brokers and result backends

Usage:
  celery-tls render --manifest FILE [--format FORMAT] [--select TEXT] [--output FILE]
  celery-tls dev up [--dir DIR] [--mtls] [--broker rabbitmq|redis] [--backend redis|postgres]
                    [--stack DIR|host] [--rabbitmq-4.3]
  celery-tls dev env [--dir DIR] [--role worker|producer]
  celery-tls dev run [--dir DIR] [--role worker|producer] -- COMMAND...
  celery-tls dev down [--dir DIR]
  celery-tls verify (--manifest FILE [--select TEXT] | --endpoint URL ...) [options] [--json]

Commands:
  render   Render Celery settings from a manifest. FILE is the SSM parameter value, the output of
           'aws ssm get-parameter', or a 'cdk deploy --outputs-file' file; '-' reads standard input.
  dev      A local environment with TLS on, like production: a local CA, server and client certificates,
           TLS-only redis-server and rabbitmq-server (started when installed, as you, on free loopback ports),
           a vhost and users, and the same Celery settings pointing at localhost; with --backend postgres a
           TLS-only PostgreSQL (as Debian's postgres user when run as root) holds the results, with a login role
           per Celery role. 'env' prints the shell exports of a role (development passwords included);
           'run' runs COMMAND with them, with the environment's Python and Celery (e.g. python3 -m celery -A
           tasks worker); 'down' stops what 'up' started and removes DIR.
           The servers come from the root scripts/current-stack builds (RabbitMQ 4, Valkey 8, Celery 5.5, as
           production) when it exists, else from this machine; 'up' says which versions differ from production.
  verify   Audit each broker/result backend endpoint: TLS handshake, chain against the CA, host name,
           protocol >= TLS 1.2, TLS 1.0 and 1.1 refused, no plaintext answer, days to expiry, client
           certificate required (mutual TLS). Exits 1 when a check fails.

Options:
  --format FORMAT        ${CELERY_CONFIG_FORMATS.join(' | ')} (default: python)
  --select TEXT          pick the manifest whose location contains TEXT when the file holds several
  --output FILE          write to FILE instead of standard output
  --dir DIR              dev environment directory (default: .celery-tls)
  --mtls                 dev: require client certificates; verify: expect them to be required
  --stack DIR|host       dev: servers and Celery from a scripts/current-stack root, or this machine's
                         (default: ${DEFAULT_STACK_ROOT} when it exists, else this machine)
  --backend redis|postgres  dev: the result backend (default: redis)
  --rabbitmq-4.3         dev: RabbitMQ as 4.3 behaves (transient queues and global QoS denied), 4.3 settings
  --endpoint URL         verify: amqps://, rediss:// or postgresql://HOST[:PORT] (repeatable)
  --ca FILE              verify: CA bundle (default: the manifest's caCerts, else Node's root store)
  --cert FILE, --key FILE  verify: client certificate and key for mutual TLS
  --plaintext-port N     verify: another port on the host that must not answer in plaintext (repeatable)
  --expiry-warn-days N   verify: warn when the certificate expires sooner (default: 30)
  --timeout-ms N         verify: per connection (default: 5000)
  --json                 verify: machine-readable report
  -h, --help             show this help
  -v, --version          show the version
`;

class UsageError extends Error {}

function render(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    options: {
      manifest: { type: 'string' },
      format: { type: 'string', default: 'python' },
      select: { type: 'string' },
      output: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!values.manifest) throw new UsageError('render needs --manifest FILE');
  const format = values.format as CeleryConfigFormat;
  if (!CELERY_CONFIG_FORMATS.includes(format)) {
    throw new UsageError(
      `--format ${JSON.stringify(values.format)} is not allowed: use ${CELERY_CONFIG_FORMATS.join(', ')}`,
    );
  }
  const text = readFileSync(values.manifest === '-' ? 0 : values.manifest, 'utf8');
  const config = CeleryConfig.fromManifest(text, values.select);
  for (const w of config.warnings) process.stderr.write(`celery-tls: warning: ${w.message}\n`);
  const out = config.render(format, values.manifest === '-' ? 'standard input' : values.manifest);
  if (values.output) {
    writeFileSync(values.output, out, { mode: 0o644 });
    process.stderr.write(`celery-tls: wrote ${values.output} (${format})\n`);
  } else {
    process.stdout.write(out);
  }
}

const DEFAULT_DEV_DIR = '.celery-tls';

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function dev(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      dir: { type: 'string', default: DEFAULT_DEV_DIR },
      mtls: { type: 'boolean', default: false },
      broker: { type: 'string' },
      backend: { type: 'string' },
      role: { type: 'string', default: 'worker' },
      stack: { type: 'string' },
      'rabbitmq-4.3': { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0 && sub !== 'run')
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const log = (line: string) => process.stderr.write(`celery-tls dev: ${line}\n`);
  if (sub === 'up') {
    if (values.broker !== undefined && !['rabbitmq', 'redis'].includes(values.broker))
      throw new UsageError(`--broker ${JSON.stringify(values.broker)} is not allowed: use rabbitmq or redis`);
    if (values.backend !== undefined && !['redis', 'postgres'].includes(values.backend))
      throw new UsageError(`--backend ${JSON.stringify(values.backend)} is not allowed: use redis or postgres`);
    const stackRoot =
      values.stack === 'host'
        ? undefined
        : (values.stack ?? (isStackRoot(DEFAULT_STACK_ROOT) ? DEFAULT_STACK_ROOT : undefined));
    const env = await DevEnvironment.up({
      dir: values.dir!,
      mutualTls: values.mtls,
      broker: values.broker as 'rabbitmq' | 'redis' | undefined,
      backend: values.backend as 'redis' | 'postgres' | undefined,
      stackRoot,
      rabbitMq43: values['rabbitmq-4.3'],
      log,
    });
    log(
      `ready: broker ${env.state.broker}${env.state.mutualTls ? ' with mutual TLS' : ''}, result backend ${env.state.backend ?? 'redis'}; worker settings in ${env.dir}/worker/celeryconfig.py`,
    );
    const stack = env.stack();
    log(
      `servers from ${stack.root ?? 'this machine'}: rabbitmq ${stack.versions.rabbitmq ?? 'none'}, ${stack.redisEngine} ${stack.versions.redis ?? 'none'}${env.state.postgres ? `, postgresql ${env.state.postgres.version ?? ''}` : ''}, celery ${stack.versions.celery ?? 'none'}${stack.root ? `; run Celery with them: celery-tls dev run -- python3 -m celery -A tasks worker` : ''}`,
    );
    const production = {
      rabbitmq: DEFAULTS.rabbitmq.engineVersion,
      valkey: DEFAULTS.redis.engineVersion.valkey,
      celery: '5.5',
    };
    const differences = differencesFromProduction(stack, production);
    if (differences.length === 0)
      log('mirrors production: RabbitMQ 4, Valkey 8 and Celery 5.5; the settings are the ones production gets');
    for (const d of differences) log(`differs from production: ${d}`);
    if (differences.length > 0 && !stackRoot)
      log('for the production stack: bash scripts/current-stack, then celery-tls dev up again');
    return 0;
  }
  if (sub === 'env') {
    if (!['worker', 'producer'].includes(values.role!))
      throw new UsageError(`--role ${JSON.stringify(values.role)} is not allowed: use worker or producer`);
    const env = DevEnvironment.load(values.dir!);
    const role = values.role as 'worker' | 'producer';
    const vars = {
      PYTHONPATH: `${env.dir}/${role}`,
      ...new CeleryConfig(env.celeryInput(role)).toEnvironment(),
      ...env.secretEnvironment(env.state.broker, role),
    };
    for (const [k, v] of Object.entries(vars)) process.stdout.write(`export ${k}=${shellQuote(v)}\n`);
    return 0;
  }
  if (sub === 'run') {
    if (!['worker', 'producer'].includes(values.role!))
      throw new UsageError(`--role ${JSON.stringify(values.role)} is not allowed: use worker or producer`);
    if (positionals.length === 0)
      throw new UsageError(
        'dev run needs a command after --, e.g. celery-tls dev run -- python3 -m celery -A tasks worker',
      );
    const env = DevEnvironment.load(values.dir!);
    const role = values.role as 'worker' | 'producer';
    const vars = {
      PYTHONPATH: [`${env.dir}/${role}`, process.cwd()].join(':'),
      ...new CeleryConfig(env.celeryInput(role)).toEnvironment(),
      ...env.secretEnvironment(env.state.broker, role),
    };
    const stack = env.stack([process.cwd()]);
    const [command, ...commandArgs] = positionals;
    const c = stack.command(command === 'python3' || command === 'python' ? stack.python : command, commandArgs);
    const r = spawnSync(c.command, c.args, { stdio: 'inherit', env: { ...process.env, ...vars } });
    return r.status ?? 1;
  }
  if (sub === 'down') {
    await DevEnvironment.load(values.dir!).down(log);
    return 0;
  }
  throw new UsageError(`dev needs up, env or down (got ${JSON.stringify(sub ?? '')})`);
}

async function verify(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      manifest: { type: 'string' },
      select: { type: 'string' },
      endpoint: { type: 'string', multiple: true },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      mtls: { type: 'boolean' },
      'plaintext-port': { type: 'string', multiple: true },
      'expiry-warn-days': { type: 'string', default: '30' },
      'timeout-ms': { type: 'string', default: '5000' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const number = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`--${name} ${JSON.stringify(text)} is not allowed: use a whole number from ${min}`);
    return n;
  };
  if (!values.manifest && !values.endpoint?.length)
    throw new UsageError('verify needs --manifest FILE or --endpoint URL');
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  const overrides: TargetOverrides = {
    caFile: values.ca,
    certFile: values.cert,
    keyFile: values.key,
    mutualTls: values.mtls,
    plaintextPorts: (values['plaintext-port'] ?? []).map((p) => number('plaintext-port', p, 1)),
  };
  const targets: VerifyTarget[] = [];
  if (values.manifest)
    targets.push(
      ...targetsFromConfig(
        CeleryConfig.fromManifest(readFileSync(values.manifest === '-' ? 0 : values.manifest, 'utf8'), values.select),
        overrides,
      ),
    );
  for (const url of values.endpoint ?? []) targets.push(targetFromUrl(url, overrides));
  const options = {
    expiryWarnDays: number('expiry-warn-days', values['expiry-warn-days']!, 0),
    timeoutMs: number('timeout-ms', values['timeout-ms']!, 100),
  };
  const reports = [];
  for (const t of targets) reports.push(await verifyEndpoint(t, options));
  const ok = reportOk(reports);
  process.stdout.write(
    values.json ? JSON.stringify({ ok, endpoints: reports }, null, 2) + '\n' : formatReports(reports),
  );
  return ok ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === '-v' || command === '--version') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (command === 'render') {
      render(rest);
      return 0;
    }
    if (command === 'dev') return await dev(rest);
    if (command === 'verify') return await verify(rest);
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`celery-tls: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ValidationError) {
      process.stderr.write(
        `celery-tls: the manifest is not acceptable:\n${e.issues.map((i) => `  - ${i.message}`).join('\n')}\n`,
      );
      return 1;
    }
    process.stderr.write(`celery-tls: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
