/**
 * The rendered settings with message signing and result encryption, imported by Debian's python3 with Celery and
 * python3-cryptography, set up as an application does (celery_tls_setup_security(app)): what Celery and kombu hold,
 * and what the import or the setup refuses.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CeleryConfig, CeleryConfigInput } from '../../lib/core';
import { CelerySecurityOptions, securityEnvironment } from '../../lib/core/celery/security';
import { PYTHON, tempFile } from './harness';

const FIXTURES = join(__dirname, '..', 'fixtures');
const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}`;
const base: CeleryConfigInput = {
  broker: { scheme: 'amqps', host: 'b-1.mq.eu-west-1.on.aws', port: 5671, username: 'w', engine: 'rabbitmq' },
  resultBackend: { scheme: 'rediss', host: 'master.c.euw1.cache.amazonaws.com', port: 6379, engine: 'valkey' },
};
const PASSWORDS = { CELERY_TLS_BROKER_PASSWORD: 'b', CELERY_TLS_RESULT_BACKEND_PASSWORD: 'r' };

interface Key {
  keyFile: string;
  certFile: string;
  key: string;
  cert: string;
  secret: string;
}

function key(name: string, options: string[] = ['-newkey', 'rsa:2048'], extra: string[] = []): Key {
  const dir = mkdtempSync(join(tmpdir(), 'celery-tls-sigkey-'));
  const keyFile = join(dir, 'k.pem');
  const certFile = join(dir, 'c.pem');
  const r = spawnSync('openssl', [
    'req',
    '-x509',
    ...options,
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-subj',
    `/CN=${name}`,
    '-days',
    '30',
    ...extra,
  ]);
  if (r.status !== 0) throw new Error(String(r.stderr));
  const k = readFileSync(keyFile, 'utf8');
  const c = readFileSync(certFile, 'utf8');
  return { keyFile, certFile, key: k, cert: c, secret: JSON.stringify({ certificate: c, private_key: k }) };
}

const worker = key('worker', ['-newkey', 'rsa:2048', '-nodes']);
const producer = key('producer', ['-newkey', 'rsa:3072', '-nodes']);
const SIGNING = { keyPairSecretArn: ARN('signing'), certStoreSecretArn: ARN('signers') };
const signingEnv = (own: Key = worker, store: Key[] = [worker, producer]) => ({
  CELERY_TLS_SIGNING_KEYPAIR: own.secret,
  CELERY_TLS_SIGNING_CERTIFICATES: store.map((k) => k.cert).join(''),
});
const K1 = 'k1-'.padEnd(64, 'a1');
const K2 = 'k2-'.padEnd(64, 'b2');

function run(
  security: CelerySecurityOptions,
  env: Record<string, string>,
  opts: { flavor?: 'module' | 'django'; update?: Record<string, unknown>; decrypt?: string; boto3?: boolean } = {},
) {
  const config = new CeleryConfig({ ...base, security });
  const source = opts.flavor === 'django' ? config.toDjangoSettings('t') : config.toPythonModule('t');
  const dir = mkdtempSync(join(tmpdir(), 'celery-tls-sec-'));
  writeFileSync(join(dir, 'rendered_settings.py'), source);
  const r = spawnSync(
    PYTHON,
    [join(FIXTURES, 'inspect_security.py'), dir, 'rendered_settings', opts.flavor ?? 'module'],
    {
      env: {
        PATH: '/usr/bin:/bin',
        LANG: 'C.UTF-8',
        PYTHONDONTWRITEBYTECODE: '1',
        ...PASSWORDS,
        ...(opts.boto3 ? { PYTHONPATH: join(FIXTURES, 'security-stub-boto3') } : {}),
        ...(opts.update ? { INSPECT_CONF_UPDATE: JSON.stringify(opts.update) } : {}),
        ...(opts.decrypt ? { INSPECT_DECRYPT: opts.decrypt } : {}),
        ...env,
      },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return { status: r.status, json: JSON.parse(last), stderr: r.stderr, source };
  } catch {
    throw new Error(`no JSON (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

describe('signing: the settings Celery ends up with', () => {
  const r = run({ signing: SIGNING }, signingEnv());
  const c = r.json;

  test('auth serializer, accept_content exactly ["auth"], results in JSON, sha256', () => {
    expect(c.error).toBeUndefined();
    expect(c).toMatchObject({
      task_serializer: 'auth',
      accept_content: ['auth'],
      result_serializer: 'json',
      result_accept_content: ['json'],
      security_digest: 'sha256',
      event_serializer: 'json',
    });
  });

  test("the role's key and certificate are 0600 files in a 0700 directory; the store holds one file per signer", () => {
    expect(c.security_key).toMatchObject({ mode: '0o600', dir_mode: '0o700', content: worker.key });
    expect(c.security_certificate.content.trim()).toBe(worker.cert.trim());
    expect(c.security_cert_store).toMatchObject({ dir_mode: '0o700', files: ['signer-000.pem', 'signer-001.pem'] });
  });

  test("Celery's auth serializer is registered: a body signed with the key verifies against the store", () => {
    expect(c.signed_content_type).toBe('application/data');
    expect(c.verified).toEqual([['argument'], {}, {}]);
    expect(c.verifies_as_sha256).toBe(true);
  });

  test('the rendered file holds no key, only where to find it', () => {
    expect(r.source).not.toContain('PRIVATE KEY');
    expect(r.source).toContain('CELERY_TLS_SIGNING_KEYPAIR');
    expect(r.source).toContain(ARN('signing'));
  });

  test('a store given as a directory is used as it is; key files as paths are used as they are', () => {
    const store = mkdtempSync(join(tmpdir(), 'celery-tls-store-'));
    writeFileSync(join(store, 'worker.pem'), worker.cert);
    writeFileSync(join(store, 'producer.pem'), producer.cert);
    const d = run({ signing: { keyFile: producer.keyFile, certificateFile: producer.certFile, certStore: store } }, {});
    expect(d.json.error).toBeUndefined();
    expect(d.json.security_cert_store.files).toEqual(['producer.pem', 'worker.pem']);
    expect(d.json.security_key.content).toBe(producer.key);
    expect(d.json.verified).toEqual([['argument'], {}, {}]);
  });

  test('read by ARN at start-up: the key pair and the store secrets, in their region', () => {
    const secrets = tempFile(
      'secrets.json',
      JSON.stringify({
        [ARN('signing')]: { AWSCURRENT: worker.secret },
        [ARN('signers')]: { AWSCURRENT: JSON.stringify({ certificates: worker.cert + producer.cert }) },
      }),
    );
    const calls = tempFile('calls.jsonl', '');
    const d = run({ signing: SIGNING }, { STUB_SECRETS_FILE: secrets, STUB_CALLS_FILE: calls }, { boto3: true });
    expect(d.json.error).toBeUndefined();
    expect(d.json.verified).toEqual([['argument'], {}, {}]);
    expect(
      readFileSync(calls, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).SecretId),
    ).toEqual([ARN('signing'), ARN('signers')]);
  });
});

describe('signing: a renewed signer is learnt from the store secret (read by ARN) without a restart', () => {
  const renewed = key('producer-renewed', ['-newkey', 'rsa:3072', '-nodes']);
  const rotate = (refreshSeconds: string) => {
    const secrets = tempFile(
      'secrets.json',
      JSON.stringify({
        [ARN('signing')]: { AWSCURRENT: worker.secret },
        [ARN('signers')]: { AWSCURRENT: JSON.stringify({ certificates: worker.cert + producer.cert }) },
      }),
    );
    const calls = tempFile('calls.jsonl', '');
    const r = run(
      { signing: SIGNING },
      {
        STUB_SECRETS_FILE: secrets,
        STUB_CALLS_FILE: calls,
        CELERY_TLS_SIGNING_CERTIFICATES_REFRESH_SECONDS: refreshSeconds,
        INSPECT_NEW_SIGNER: renewed.secret,
        INSPECT_STORE_ARN: ARN('signers'),
        INSPECT_NEW_STORE: JSON.stringify({ certificates: worker.cert + producer.cert + renewed.cert }),
      },
      { boto3: true },
    ).json;
    const storeReads = readFileSync(calls, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => JSON.parse(l).SecretId === ARN('signers')).length;
    return { ...r, storeReads };
  };

  test('unknown before the store has it (refused), verified once it has it: the store is read again', () => {
    const r = rotate('0');
    expect(r.error).toBeUndefined();
    expect(r.new_signer_before).toMatch(/Unknown certificate/);
    expect(r.new_signer_after).toEqual([['argument'], {}, {}]);
    // At start-up, then once per unknown signer (before and after the store changed).
    expect(r.storeReads).toBe(3);
  });

  test('within the refresh interval the store is not read again, so the message stays refused', () => {
    const r = rotate('30');
    expect(r.new_signer_before).toMatch(/Unknown certificate/);
    expect(r.new_signer_after).toMatch(/Unknown certificate/);
    expect(r.storeReads).toBe(2);
  });
});

describe('signing: a signer cannot choose the decoder (the inner content type is not signed)', () => {
  test('a signed body labelled as pickle is never unpickled: kombu has no pickle decoder after the setup call', () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'celery-tls-bomb-')), 'ran');
    // Protocol 0 is ASCII: it survives the auth serializer's text framing, so the signature verifies.
    const r = run({ signing: SIGNING }, { ...signingEnv(), INSPECT_SIGNED_PICKLE: marker, PICKLE_PROTOCOL: '0' }).json;
    expect(r.error).toBeUndefined();
    expect(r.signed_pickle_ran).toBe(false);
    expect(existsSync(marker)).toBe(false);
    // Refused (kombu finds no decoder for it), so the task fails instead of running anything.
    expect(r.signed_pickle).toMatch(/^refused: |^(bytes|str)$/);
    // The legitimate JSON body still verifies and decodes.
    expect(r.verified).toEqual([['argument'], {}, {}]);
  });
});

describe('signing: refused at import', () => {
  const refused = (env: Record<string, string>) => {
    const r = run({ signing: SIGNING }, env);
    expect(r.status).toBe(3);
    expect(r.json.stage).toBe('import');
    expect(r.json.error).toBe('CeleryTLSConfigError');
    expect(r.json.message).not.toMatch(/BEGIN|PRIVATE/);
    return r.json.message as string;
  };

  test('an EC key (Celery signs with RSA only)', () => {
    const ec = key('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']);
    expect(refused(signingEnv(ec, [ec]))).toMatch(
      /CELERY_TLS_SIGNING_KEYPAIR \(certificate\) has a .*EllipticCurve.* key: .*needs RSA/,
    );
  });

  test('an EC certificate in the store', () => {
    const ec = key('ec-signer', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']);
    expect(refused(signingEnv(worker, [worker, ec]))).toMatch(
      /The signer certificate CELERY_TLS_SIGNING_CERTIFICATES #2 has .* needs RSA/,
    );
  });

  test('an encrypted key', () => {
    const enc = key('enc', ['-newkey', 'rsa:2048', '-passout', 'pass:secret-pass']);
    expect(refused(signingEnv(enc, [enc]))).toMatch(/holds an encrypted private key/);
  });

  test('a 1024-bit RSA key', () => {
    const small = key('small', ['-newkey', 'rsa:1024', '-nodes']);
    expect(refused(signingEnv(small, [small]))).toMatch(/has a 1024-bit RSA key: use 2048 bits or more/);
  });

  test('a key that does not belong to its certificate', () => {
    const mixed = JSON.stringify({ certificate: worker.cert, private_key: producer.key });
    expect(refused({ ...signingEnv(), CELERY_TLS_SIGNING_KEYPAIR: mixed })).toMatch(
      /the private key does not belong to the certificate/,
    );
  });

  test('a secret without the private key', () => {
    expect(
      refused({ ...signingEnv(), CELERY_TLS_SIGNING_KEYPAIR: JSON.stringify({ certificate: worker.cert }) }),
    ).toMatch(/must be JSON with "certificate" and "private_key"/);
  });

  test('a store without certificates', () => {
    const empty = mkdtempSync(join(tmpdir(), 'celery-tls-empty-'));
    expect(refused({ ...signingEnv(), CELERY_TLS_SIGNING_CERT_STORE: empty })).toMatch(/holds no certificate/);
    expect(refused({ ...signingEnv(), CELERY_TLS_SIGNING_CERTIFICATES: 'not a PEM' })).toMatch(/holds no certificate/);
  });

  test('a store file holding two certificates (Celery reads one certificate per file)', () => {
    const store = mkdtempSync(join(tmpdir(), 'celery-tls-store2-'));
    writeFileSync(join(store, 'two.pem'), worker.cert + producer.cert);
    expect(refused({ ...signingEnv(), CELERY_TLS_SIGNING_CERT_STORE: store })).toMatch(
      /two\.pem must hold exactly one PEM certificate/,
    );
  });
});

describe('signing: a store directory with a subdirectory', () => {
  test('is refused at import, naming the entry (Celery reads every entry as a certificate)', () => {
    const store = mkdtempSync(join(tmpdir(), 'celery-tls-store3-'));
    writeFileSync(join(store, 'worker.pem'), worker.cert);
    mkdirSync(join(store, 'old'));
    const r = run({ signing: SIGNING }, { ...signingEnv(), CELERY_TLS_SIGNING_CERT_STORE: store });
    expect(r.json).toMatchObject({ stage: 'import', error: 'CeleryTLSConfigError' });
    expect(r.json.message).toBe(
      `${store}/old is not a file: Celery reads every entry of the store directory as a certificate.`,
    );
  });
});

describe('signing: what the application changes is refused by celery_tls_setup_security(app)', () => {
  const setupRefuses = (update: Record<string, unknown>) => {
    const r = run({ signing: SIGNING }, signingEnv(), { update });
    expect(r.status).toBe(3);
    expect(r.json).toMatchObject({ stage: 'setup', error: 'CeleryTLSConfigError' });
    return r.json.message as string;
  };

  test.each([
    [{ accept_content: ['auth', 'pickle'] }, /accept_content includes pickle/],
    [
      { result_accept_content: ['json', 'application/x-python-serialize'] },
      /result_accept_content includes application\/x-python-serialize/,
    ],
    [{ result_serializer: 'pickle' }, /result_serializer includes pickle/],
    [{ event_serializer: 'yaml' }, /event_serializer includes yaml/],
    [
      { accept_content: ['auth', 'json'] },
      /accept_content is \['auth', 'json'\]; with message signing it must be exactly \['auth'\]/,
    ],
    [{ task_serializer: 'json' }, /task_serializer is 'json'; with message signing it must be exactly 'auth'/],
    [{ security_digest: 'sha1' }, /security_digest 'sha1' is not allowed/],
    [{ security_key_password: 'x' }, /security_key_password is set/],
  ])('%j', (update, message) => {
    expect(setupRefuses(update)).toMatch(message);
  });

  test('the digest the settings name is the one Celery signs with (setup_security would default to sha256)', () => {
    const r = run({ signing: { ...SIGNING, digest: 'sha512' } }, signingEnv());
    expect(r.json.security_digest).toBe('sha512');
    expect(r.json.verified).toEqual([['argument'], {}, {}]);
    expect(r.json.verifies_as_sha256).toBe(false);
    expect(r.source).toContain('security_digest = "sha512"');
  });
});

describe('Django settings block', () => {
  test('CELERY_TLS_SETUP_SECURITY is reachable through django.conf.settings; Celery reads the CELERY_ names', () => {
    const r = run(
      { signing: SIGNING, resultEncryption: { keySecretArn: ARN('k') } },
      { ...signingEnv(), CELERY_TLS_RESULT_KEY: K1 },
      { flavor: 'django' },
    );
    expect(r.json.error).toBeUndefined();
    expect(r.source).toContain('CELERY_TASK_SERIALIZER = "auth"');
    expect(r.source).toContain('CELERY_TLS_SETUP_SECURITY = celery_tls_setup_security');
    expect(r.json).toMatchObject({
      task_serializer: 'auth',
      accept_content: ['auth'],
      result_serializer: 'celery_tls_aesgcm',
    });
    expect(r.json.unsealed).toMatchObject({ result: { value: 'result-text' } });
  });
});

describe('result encryption', () => {
  const enc = { resultEncryption: { keySecretArn: ARN('result-key') } };

  test('results in celery_tls_aesgcm: "ctls1.<key id>.<base64url>", nothing of the result readable; tasks stay JSON', () => {
    const r = run(enc, { CELERY_TLS_RESULT_KEY: K1 });
    expect(r.json).toMatchObject({
      task_serializer: 'json',
      accept_content: ['json'],
      result_serializer: 'celery_tls_aesgcm',
      result_accept_content: ['celery_tls_aesgcm'],
    });
    expect(r.json.sealed).toMatch(/^ctls1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
    expect(r.json.sealed).not.toMatch(/result-text|SUCCESS/);
    expect(r.json.unsealed).toMatchObject({ status: 'SUCCESS', result: { value: 'result-text' } });
  });

  test('the key id comes from the key: the same key gives the same id, another key another id', () => {
    const a = run(enc, { CELERY_TLS_RESULT_KEY: K1 }).json.sealed.split('.')[1];
    const b = run(enc, { CELERY_TLS_RESULT_KEY: JSON.stringify({ key: K1 }) }).json.sealed.split('.')[1];
    const c = run(enc, { CELERY_TLS_RESULT_KEY: K2 }).json.sealed.split('.')[1];
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  test('rotation: a value sealed with the previous key reads; without it, the error names the key id', () => {
    const old = run(enc, { CELERY_TLS_RESULT_KEY: K1 }).json.sealed;
    const rotated = run(enc, { CELERY_TLS_RESULT_KEY: K2, CELERY_TLS_RESULT_KEY_PREVIOUS: K1 }, { decrypt: old }).json;
    expect(rotated.decrypted).toMatchObject({ result: { value: 'result-text' } });
    expect(rotated.sealed.split('.')[1]).not.toBe(old.split('.')[1]);
    const list = run(
      enc,
      { CELERY_TLS_RESULT_KEY: K2, CELERY_TLS_RESULT_KEY_PREVIOUS: JSON.stringify(['x'.repeat(40), K1]) },
      { decrypt: old },
    ).json;
    expect(list.decrypted).toMatchObject({ result: { value: 'result-text' } });
    const gone = run(enc, { CELERY_TLS_RESULT_KEY: K2 }, { decrypt: old }).json;
    expect(gone.decrypt_error).toContain(`encrypted with key id ${old.split('.')[1]}, which is not in the key ring`);
    expect(gone.decrypt_error).not.toContain(K1);
  });

  test('a changed value fails authentication; a value of another format is refused', () => {
    const sealed: string = run(enc, { CELERY_TLS_RESULT_KEY: K1 }).json.sealed;
    const flipped = sealed.slice(0, -3) + (sealed.slice(-3, -2) === 'A' ? 'B' : 'A') + sealed.slice(-2);
    expect(run(enc, { CELERY_TLS_RESULT_KEY: K1 }, { decrypt: flipped }).json.decrypt_error).toContain(
      'failed authentication',
    );
    expect(run(enc, { CELERY_TLS_RESULT_KEY: K1 }, { decrypt: '{"status": "SUCCESS"}' }).json.decrypt_error).toContain(
      'Not a celery-tls encrypted value',
    );
  });

  test('read by ARN: AWSCURRENT and AWSPREVIOUS, AWSPREVIOUS missing before the first rotation', () => {
    const secrets = tempFile(
      'secrets.json',
      JSON.stringify({ [ARN('result-key')]: { AWSCURRENT: K2, AWSPREVIOUS: K1 }, [ARN('new')]: { AWSCURRENT: K1 } }),
    );
    const calls = tempFile('calls.jsonl', '');
    const old = run(enc, { CELERY_TLS_RESULT_KEY: K1 }).json.sealed;
    const stub = { STUB_SECRETS_FILE: secrets, STUB_CALLS_FILE: calls };
    const r = run(enc, stub, { boto3: true, decrypt: old }).json;
    expect(r.decrypted).toMatchObject({ result: { value: 'result-text' } });
    const fresh = run({ resultEncryption: { keySecretArn: ARN('new') } }, stub, { boto3: true }).json;
    expect(fresh.unsealed).toMatchObject({ result: { value: 'result-text' } });
    expect(
      readFileSync(calls, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { SecretId: ARN('result-key'), VersionStage: 'AWSCURRENT', region: 'eu-west-1' },
      { SecretId: ARN('result-key'), VersionStage: 'AWSPREVIOUS', region: 'eu-west-1' },
      { SecretId: ARN('new'), VersionStage: 'AWSCURRENT', region: 'eu-west-1' },
      { SecretId: ARN('new'), VersionStage: 'AWSPREVIOUS', region: 'eu-west-1' },
    ]);
  });

  test('deploy-time ARNs are rendered as None and read from the variables securityEnvironment() names', () => {
    const token = '${Token[TOKEN.9]}';
    const ctx = { isUnresolved: (v: unknown) => typeof v === 'string' && v.startsWith('${Token[') };
    const config = new CeleryConfig({ ...base, security: { resultEncryption: { keySecretArn: token } } }, ctx);
    const source = config.toPythonModule('t');
    expect(source).toContain('"key_secret_arn": None');
    const secrets = tempFile('secrets.json', JSON.stringify({ [ARN('deployed')]: { AWSCURRENT: K2 } }));
    const calls = tempFile('calls.jsonl', '');
    const dir = mkdtempSync(join(tmpdir(), 'celery-tls-sec-token-'));
    writeFileSync(join(dir, 'rendered_settings.py'), source);
    const r = spawnSync(PYTHON, [join(FIXTURES, 'inspect_security.py'), dir, 'rendered_settings', 'module'], {
      env: {
        PATH: '/usr/bin:/bin',
        ...PASSWORDS,
        PYTHONPATH: join(FIXTURES, 'security-stub-boto3'),
        STUB_SECRETS_FILE: secrets,
        STUB_CALLS_FILE: calls,
        ...securityEnvironment(config.model.security),
        CELERY_TLS_RESULT_KEY_SECRET_ARN: ARN('deployed'), // the token's value at deploy time
      },
      encoding: 'utf8',
    });
    expect(JSON.parse(r.stdout.trim().split('\n').pop() ?? '').unsealed).toMatchObject({
      result: { value: 'result-text' },
    });
    expect(readFileSync(calls, 'utf8')).toContain(ARN('deployed'));
  });

  test('refused at import: no key, a short key, JSON without "key"', () => {
    const refuse = (env: Record<string, string>) => {
      const r = run({ resultEncryption: {} }, env);
      expect(r.json).toMatchObject({ stage: 'import', error: 'CeleryTLSConfigError' });
      return r.json.message as string;
    };
    expect(refuse({})).toMatch(/no key is given: set CELERY_TLS_RESULT_KEY/);
    expect(refuse({ CELERY_TLS_RESULT_KEY: 'short' })).toMatch(/holds a key of 5 characters: give at least 32/);
    expect(refuse({ CELERY_TLS_RESULT_KEY: '{"id": "x"}' })).toMatch(/is JSON without a "key" string/);
  });

  test('arguments too, without signing: task_serializer and accept_content are the encrypting serializer', () => {
    const r = run({ resultEncryption: { arguments: true } }, { CELERY_TLS_RESULT_KEY: K1 });
    expect(r.json).toMatchObject({ task_serializer: 'celery_tls_aesgcm', accept_content: ['celery_tls_aesgcm'] });
  });

  test('arguments with signing: Celery signs the encrypted body (the auth serializer wraps celery_tls_aesgcm)', () => {
    const r = run(
      { signing: SIGNING, resultEncryption: { arguments: true } },
      { ...signingEnv(), CELERY_TLS_RESULT_KEY: K1 },
    );
    expect(r.json).toMatchObject({ task_serializer: 'auth', accept_content: ['auth'] });
    expect(r.json.verified).toEqual([['argument'], {}, {}]);
    expect(r.source).toContain('"serializer": "celery_tls_aesgcm"');
  });
});

describe('result encryption with a PostgreSQL result backend', () => {
  const postgres = {
    scheme: 'postgresql' as const,
    host: 'celery.abc.eu-west-1.rds.amazonaws.com',
    port: 5432,
    engine: 'postgresql',
    username: 'celery_worker',
    caCerts: '/etc/ssl/certs/ca-certificates.crt',
  };
  const pg = (env: Record<string, string>) => {
    const config = new CeleryConfig({ ...base, resultBackend: postgres, security: { resultEncryption: {} } });
    const dir = mkdtempSync(join(tmpdir(), 'celery-tls-sec-pg-'));
    writeFileSync(join(dir, 'rendered_settings.py'), config.toPythonModule('t'));
    const r = spawnSync(PYTHON, [join(FIXTURES, 'inspect_security.py'), dir, 'rendered_settings', 'module'], {
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', ...PASSWORDS, CELERY_TLS_RESULT_KEY: K1, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  };

  test('Celery builds the encrypting subclass of its database backend from the celery_tls_db alias', () => {
    const c = pg({});
    expect(c.error).toBeUndefined();
    expect(c.backend_class).toBe('celery_tls_constructs_backends.EncryptedDatabaseBackend');
    expect(c.unsealed).toMatchObject({ result: { value: 'result-text' } });
  });

  test('CELERY_RESULT_BACKEND in the environment is refused: Celery would use it instead, in plaintext', () => {
    const c = pg({
      CELERY_RESULT_BACKEND:
        'db+postgresql://celery_worker:x@celery.abc.eu-west-1.rds.amazonaws.com/celery?sslmode=verify-full',
    });
    expect(c).toMatchObject({ stage: 'import', error: 'CeleryTLSConfigError' });
    expect(c.message).toContain(
      'CELERY_RESULT_BACKEND is set: Celery would use it instead of the encrypting database backend',
    );
    expect(c.message).not.toContain(':x@');
  });
});

describe('pyflakes on the rendered settings with every security option (as npm run lint:python checks the example)', () => {
  test.each(['rediss', 'postgresql'] as const)('%s result backend, module and Django block', (scheme) => {
    const resultBackend =
      scheme === 'rediss'
        ? base.resultBackend!
        : { scheme, host: 'db.example.com', port: 5432, engine: 'postgresql', username: 'celery_worker' };
    const config = new CeleryConfig({
      ...base,
      resultBackend,
      security: { signing: SIGNING, resultEncryption: { keySecretArn: ARN('k'), arguments: true } },
    });
    const dir = mkdtempSync(join(tmpdir(), 'celery-tls-flakes-'));
    writeFileSync(join(dir, 'module.py'), config.toPythonModule('t'));
    writeFileSync(join(dir, 'django.py'), config.toDjangoSettings('t'));
    const r = spawnSync(PYTHON, ['-m', 'pyflakes', join(dir, 'module.py'), join(dir, 'django.py')], {
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
