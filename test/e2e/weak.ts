import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { join } from 'node:path';
import { DevEnvironment } from '../../lib/dev/environment';
import { CertificateRequest, IssuedCertificate, issueCertificate, writeCertificate } from '../../lib/dev/pki';
import { freePort } from '../../lib/dev/process';
import { RedisServer } from '../../lib/dev/redis-server';
import { onCleanup, scratch } from './harness';

const ROOT = join(__dirname, '..', '..');

/** Runs the celery-tls command as a user would (asynchronously: the test process may be serving a relay). */
export function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'bin', 'celery-tls.ts'), ...args],
      { cwd: ROOT, timeout: 120_000 },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** An OpenSSL configuration that lets a deliberately weakened server speak TLS 1.0/1.1 (Debian's floor is 1.2). */
const PERMISSIVE_OPENSSL = [
  'openssl_conf = openssl_init',
  '[openssl_init]',
  'ssl_conf = ssl_sect',
  '[ssl_sect]',
  'system_default = system_default_sect',
  '[system_default_sect]',
  'MinProtocol = TLSv1',
  'CipherString = DEFAULT:@SECLEVEL=0',
  '',
].join('\n');

export interface WeakRedis {
  readonly tlsPort: number;
  readonly plaintextPort?: number;
  readonly password: string;
}

/**
 * A redis-server signed by the dev environment's CA, with one deliberate weakness. `mutualTls` requires client
 * certificates: checked as a mutual-TLS endpoint, a server without it is the "no client certificate required" weakness.
 */
export async function weakRedis(
  env: DevEnvironment,
  name: string,
  weakness: {
    tls11?: boolean;
    plaintextPort?: boolean;
    certificate?: Partial<CertificateRequest>;
    mutualTls?: boolean;
  },
): Promise<WeakRedis> {
  const dir = scratch(`weak-${name}`);
  const caCert = readFileSync(env.state.caFile, 'utf8');
  const ca = await loadCa(env);
  const cert = writeCertificate(
    join(dir, 'server'),
    await issueCertificate(ca, {
      commonName: 'localhost',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      ...weakness.certificate,
    }),
  );
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, caCert);
  const opensslConf = join(dir, 'openssl.cnf');
  writeFileSync(opensslConf, PERMISSIVE_OPENSSL);
  const password = `weak${name}pw`;
  const server = new RedisServer(
    {
      dir: join(dir, 'redis'),
      host: '127.0.0.1',
      tlsPort: await freePort(),
      plaintextPort: weakness.plaintextPort ? await freePort() : undefined,
      ...cert,
      caFile,
      mutualTls: weakness.mutualTls,
      username: 'celery',
      password,
      ...(weakness.tls11
        ? {
            tlsProtocols: 'TLSv1 TLSv1.1 TLSv1.2 TLSv1.3',
            tlsCiphers: 'DEFAULT:@SECLEVEL=0',
            env: { OPENSSL_CONF: opensslConf },
          }
        : {}),
    },
    env.stack(),
  );
  await server.start();
  onCleanup(() => server.stop());
  return { tlsPort: server.options.tlsPort, plaintextPort: server.options.plaintextPort, password };
}

/** The dev CA's key stays in its pki directory; tests sign weakened certificates with it. */
async function loadCa(env: DevEnvironment): Promise<IssuedCertificate> {
  const certPem = readFileSync(env.state.caFile, 'utf8');
  const keyPem = readFileSync(join(env.dir, 'pki', 'ca.key'), 'utf8');
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, algorithm, true, ['sign']);
  const cert = new x509.X509Certificate(certPem);
  const publicKey = await cert.publicKey.export(algorithm, ['verify'], webcrypto as never);
  return { cert, certPem, keyPem, keys: { privateKey, publicKey } as never };
}
