/**
 * Helpers of the message-signing and result-encryption end-to-end tests (both lanes): RSA signing keys made with
 * openssl, settings rendered with `security`, run directories whose applications call celery_tls_setup_security(app),
 * the fixtures in fixtures/security, and raw reads of the Redis result store with redis-cli over TLS.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CeleryConfig, CeleryConfigInput } from '../../lib/core';
import { CelerySecurityOptions } from '../../lib/core/celery/security';
import { DevEnvironment } from '../../lib/dev/environment';
import { ServerStack, hostStack } from '../../lib/dev/stack';
import { pythonEnv, runDir, scratch } from './harness';

const FIXTURES = join(__dirname, 'fixtures', 'security');
export const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}`;

export interface Signer {
  readonly keyFile: string;
  readonly certFile: string;
  /** The secret a role's container gets injected: {"certificate", "private_key"}. */
  readonly secret: string;
  readonly certificate: string;
}

/** An RSA key and a self-signed certificate (Celery's auth serializer checks no chain: the store is the trust). */
export function signer(name: string, keyOptions: string[] = ['-newkey', 'rsa:2048']): Signer {
  const dir = scratch(`signer-${name}`);
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      ...keyOptions,
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      `/CN=${name}`,
      '-days',
      '30',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  const certificate = readFileSync(certFile, 'utf8');
  return {
    keyFile,
    certFile,
    certificate,
    secret: JSON.stringify({ certificate, private_key: readFileSync(keyFile, 'utf8') }),
  };
}

/** A secret string for the result key ring (64 random URL-safe characters). */
export const resultKey = () => randomBytes(48).toString('base64url');

/** The settings of a role with `security`, rendered as the constructs would (secrets named by ARN). */
export function secureSettings(env: DevEnvironment, role: 'worker' | 'producer', security: CelerySecurityOptions) {
  const input: CeleryConfigInput = { ...env.celeryInput(role, 'rabbitmq'), security };
  const file = join(scratch(`secure-${role}`), 'celeryconfig.py');
  writeFileSync(file, new CeleryConfig(input).toPythonModule(`security e2e (${role})`));
  return file;
}

/** Signing with a per-role key pair secret and a store secret, as a deployment injects them. */
export const SIGNING: CelerySecurityOptions['signing'] = {
  keyPairSecretArn: ARN('celery-signing-key'),
  certStoreSecretArn: ARN('celery-signers'),
};
export const ENCRYPTION: CelerySecurityOptions['resultEncryption'] = { keySecretArn: ARN('celery-result-key') };

/** The variables ECS would inject from those secrets. */
export function signingEnvironment(own: Signer, store: Signer[]): Record<string, string> {
  return {
    CELERY_TLS_SIGNING_KEYPAIR: own.secret,
    CELERY_TLS_SIGNING_CERTIFICATES: store.map((s) => s.certificate).join(''),
  };
}

/**
 * A run directory whose e2etasks.py calls celery_tls_setup_security(app) right after loading the settings, as an
 * application does, plus the security fixtures.
 */
export function secureRunDir(settings: string, name: string, setup = true): string {
  const dir = runDir(settings, name);
  const tasks = join(dir, 'e2etasks.py');
  const anchor = 'app.config_from_object("celeryconfig")\n';
  const text = readFileSync(tasks, 'utf8');
  if (!text.includes(anchor)) throw new Error(`e2etasks.py no longer has ${JSON.stringify(anchor)}`);
  if (setup)
    writeFileSync(
      tasks,
      text.replace(anchor, `${anchor}import celeryconfig  # noqa: E402\nceleryconfig.celery_tls_setup_security(app)\n`),
    );
  for (const f of ['results.py', 'publish.py', 'peek.py']) copyFileSync(join(FIXTURES, f), join(dir, f));
  return dir;
}

/** Runs a fixture script and returns its JSON line (throws with its stderr when there is none). */
export function python(
  dir: string,
  env: Record<string, string>,
  args: string[],
  stack: ServerStack = hostStack(),
  timeoutMs = 300_000,
): any {
  const c = stack.command(
    stack.python,
    args.map((a, i) => (i === 0 ? join(dir, a) : a)),
  );
  const r = spawnSync(c.command, c.args, { cwd: dir, env: pythonEnv(dir, env), encoding: 'utf8', timeout: timeoutMs });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${args.join(' ')} exited ${r.status} without JSON:\n${r.stdout}\n${r.stderr.slice(-4000)}`);
  }
}

/** redis-cli over TLS with the dev CA; the password comes through REDISCLI_AUTH, never the command line. */
export function redisCli(env: DevEnvironment, db: number, args: string[]): string {
  const s = env.state;
  const r = spawnSync(
    'redis-cli',
    [
      '--tls',
      '--cacert',
      s.caFile,
      '-h',
      s.host,
      '-p',
      String(s.redis!.tlsPort),
      '--user',
      s.redis!.username,
      '-n',
      String(db),
      '--raw',
      ...args,
    ],
    { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', REDISCLI_AUTH: env.password('redis') }, timeout: 20_000 },
  );
  if (r.status !== 0) throw new Error(`redis-cli ${args[0]} failed: ${r.stderr}`);
  return r.stdout.replace(/\n$/, '');
}
