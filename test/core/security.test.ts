import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CeleryConfig, CeleryConfigInput, ResolveContext, ValidationError } from '../../lib/core';
import { PYTHON_SECURITY } from '../../lib/core/celery/python-security';
import { CelerySecurityOptions, SECURITY_DEFAULTS, securityEnvironment } from '../../lib/core/celery/security';

const ROOT = join(__dirname, '..', '..');
const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}`;
const broker = { scheme: 'amqps' as const, host: 'b-1.mq.eu-west-1.on.aws', port: 5671, engine: 'rabbitmq' };
const rediss = { scheme: 'rediss' as const, host: 'master.c.euw1.cache.amazonaws.com', port: 6379, engine: 'valkey' };
const SIGNING = { keyPairSecretArn: ARN('key'), certStoreSecretArn: ARN('store') };

const input = (security: CelerySecurityOptions, extra: Partial<CeleryConfigInput> = {}): CeleryConfigInput => ({
  broker,
  resultBackend: rediss,
  security,
  ...extra,
});

function errors(i: CeleryConfigInput): { code: string; prop: string; message: string }[] {
  try {
    new CeleryConfig(i);
  } catch (e) {
    if (e instanceof ValidationError) return e.issues;
    throw e;
  }
  return [];
}

describe('security options: invalid inputs are refused, naming the prop', () => {
  test.each<[string, CelerySecurityOptions, Partial<CeleryConfigInput>, string, RegExp]>([
    [
      'signing with pickle',
      { signing: { ...SIGNING, serializer: 'pickle' } },
      {},
      'security.signing.serializer',
      /security\.signing\.serializer "pickle" is not allowed: "pickle" builds arbitrary objects .*pickle runs code.*Allowed: "json"/,
    ],
    [
      'signing with yaml',
      { signing: { ...SIGNING, serializer: 'yaml' } },
      {},
      'security.signing.serializer',
      /"yaml" is not allowed/,
    ],
    [
      'signing without a certificate store',
      { signing: { keyPairSecretArn: ARN('key') } },
      {},
      'security.signing.certStore',
      /security\.signing\.certStore is missing: signing without a certificate store verifies nothing/,
    ],
    [
      'signing without a key',
      { signing: { certStore: '/etc/celery/signers' } },
      {},
      'security.signing.keyPairSecretArn',
      /security\.signing\.keyPairSecretArn is missing: give this role's signing key pair/,
    ],
    [
      'a key file without its certificate',
      { signing: { keyFile: '/k.pem', certStore: '/s' } },
      {},
      'security.signing.keyFile',
      /keyFile and security\.signing\.certificateFile go together/,
    ],
    [
      'two sources of the key',
      { signing: { ...SIGNING, keyFile: '/k', certificateFile: '/c' } },
      {},
      'security.signing.keyPairSecretArn',
      /two sources of one key/,
    ],
    [
      'two sources of the store',
      { signing: { ...SIGNING, certStore: '/s' } },
      {},
      'security.signing.certStoreSecretArn',
      /two sources of one store/,
    ],
    [
      'a sha1 digest',
      { signing: { ...SIGNING, digest: 'sha1' } },
      {},
      'security.signing.digest',
      /security\.signing\.digest "sha1" is not allowed: it is weaker than SHA-256\. Allowed: "sha256", "sha384"/,
    ],
    ['an md5 digest', { signing: { ...SIGNING, digest: 'md5' } }, {}, 'security.signing.digest', /weaker than SHA-256/],
    [
      'a key secret that is not an ARN',
      { signing: { ...SIGNING, keyPairSecretArn: 'celery-signing' } },
      {},
      'security.signing.keyPairSecretArn',
      /"celery-signing" is not a Secrets Manager secret ARN/,
    ],
    [
      'encryption without a result backend and without arguments',
      { resultEncryption: { keySecretArn: ARN('k') } },
      { resultBackend: undefined },
      'security.resultEncryption',
      /encrypts nothing without a result backend/,
    ],
    [
      'an encryption key secret that is not an ARN',
      { resultEncryption: { keySecretArn: 'key' } },
      {},
      'security.resultEncryption.keySecretArn',
      /is not a Secrets Manager secret ARN/,
    ],
  ])('%s', (_name, security, extra, prop, message) => {
    const found = errors(input(security, extra)).filter((i) => i.prop === prop);
    expect(found).toHaveLength(1);
    expect(found[0].message).toMatch(message);
  });

  test('deploy-time ARNs (tokens) are not checked and render as None', () => {
    const token = '${Token[TOKEN.12]}';
    const ctx: ResolveContext = { isUnresolved: (v) => typeof v === 'string' && v.includes('${Token[') };
    const c = new CeleryConfig(
      input({
        signing: { keyPairSecretArn: token, certStoreSecretArn: token },
        resultEncryption: { keySecretArn: token },
      }),
      ctx,
    );
    const py = c.toPythonModule();
    expect(py).not.toContain('Token[');
    expect(py).toContain('"key_pair_secret_arn": None');
    expect(py).toContain('"key_secret_arn": None');
  });
});

describe('rendered serializer settings', () => {
  const settingsOf = (security?: CelerySecurityOptions) => {
    const py = new CeleryConfig(security ? input(security) : { broker, resultBackend: rediss }).toPythonModule();
    const get = (name: string) => new RegExp(`^${name} = (.*)$`, 'm').exec(py)?.[1];
    return {
      py,
      values: ['task_serializer', 'accept_content', 'result_serializer', 'result_accept_content'].map(get),
      get,
    };
  };

  test('without security: JSON everywhere, and the security part is not embedded', () => {
    const { py, values } = settingsOf();
    expect(values).toEqual(['"json"', '["json"]', '"json"', '["json"]']);
    expect(py).not.toContain('celery_tls_setup_security');
    expect(py).not.toContain('_celery_tls_signing');
  });

  test.each<[string, CelerySecurityOptions, string[]]>([
    ['signing', { signing: SIGNING }, ['"auth"', '["auth"]', '"json"', '["json"]']],
    [
      'encryption',
      { resultEncryption: { keySecretArn: ARN('k') } },
      ['"json"', '["json"]', '"celery_tls_aesgcm"', '["celery_tls_aesgcm"]'],
    ],
    [
      'encryption of arguments too',
      { resultEncryption: { keySecretArn: ARN('k'), arguments: true } },
      ['"celery_tls_aesgcm"', '["celery_tls_aesgcm"]', '"celery_tls_aesgcm"', '["celery_tls_aesgcm"]'],
    ],
    [
      'signing with encrypted arguments and results',
      { signing: SIGNING, resultEncryption: { keySecretArn: ARN('k'), arguments: true } },
      ['"auth"', '["auth"]', '"celery_tls_aesgcm"', '["celery_tls_aesgcm"]'],
    ],
  ])('%s', (_name, security, expected) => {
    const { py, values, get } = settingsOf(security);
    expect(values).toEqual(expected);
    expect(py).toContain(PYTHON_SECURITY);
    expect(py).toContain(`${SECURITY_DEFAULTS.setupFunction} = _celery_tls_make_setup_security(`);
    if (security.signing) {
      expect(get('security_digest')).toBe('"sha256"');
      expect(get('security_cert_store')).toBe('_celery_tls_signing_paths[2]');
      expect(py).toContain('_celery_tls_security_guard(True)');
    } else {
      expect(get('security_key')).toBeUndefined();
    }
  });

  test('the header documents the variables and the setup call; the Django block names CELERY_TLS_SETUP_SECURITY', () => {
    const c = new CeleryConfig(input({ signing: SIGNING, resultEncryption: { keySecretArn: ARN('k') } }));
    expect(c.toPythonModule()).toMatch(/call celery_tls_setup_security\(app\) after app\.config_from_object\(\)/);
    expect(c.toPythonModule()).toContain('CELERY_TLS_RESULT_KEY_PREVIOUS (AWSPREVIOUS)');
    const django = c.toDjangoSettings();
    expect(django).toContain('CELERY_TASK_SERIALIZER = "auth"');
    expect(django).toContain('CELERY_ACCEPT_CONTENT = ["auth"]');
    expect(django).toContain('CELERY_TLS_SETUP_SECURITY = celery_tls_setup_security');
  });
});

describe('encryption with a PostgreSQL result backend', () => {
  const postgres = {
    scheme: 'postgresql' as const,
    host: 'celery.abc.eu-west-1.rds.amazonaws.com',
    port: 5432,
    engine: 'postgresql',
    username: 'celery_worker',
  };
  const config = new CeleryConfig(input({ resultEncryption: { keySecretArn: ARN('k') } }, { resultBackend: postgres }));

  test('results go through the encrypting database backend: installed before the settings, its alias after the TLS assertion', () => {
    const py = config.toPythonModule();
    const at = (text: string) => py.indexOf(text);
    expect(config.model.security?.resultEncryption?.databaseBackend).toBe(true);
    expect(at('_celery_tls_encrypted_database_backend()\n')).toBeGreaterThan(0);
    expect(at('_celery_tls_encrypted_database_backend()\n')).toBeLessThan(
      at('result_backend = _celery_tls_result_backend[0]'),
    );
    const assertion = at('_celery_tls_assert_secure(broker_url');
    const alias = at('result_backend = _celery_tls_encrypted_database_url(result_backend)');
    expect(assertion).toBeGreaterThan(0);
    expect(alias).toBeGreaterThan(assertion);
    expect(py).toMatch(/^result_serializer = "celery_tls_aesgcm"$/m);
  });

  test('the Django block rewrites CELERY_RESULT_BACKEND', () => {
    expect(config.toDjangoSettings()).toContain(
      'CELERY_RESULT_BACKEND = _celery_tls_encrypted_database_url(CELERY_RESULT_BACKEND)',
    );
  });

  test("a Redis result backend keeps Celery's own backend", () => {
    const py = new CeleryConfig(input({ resultEncryption: { keySecretArn: ARN('k') } })).toPythonModule();
    expect(py).not.toMatch(/^result_backend = _celery_tls_encrypted_database_url/m);
    expect(py).not.toMatch(/^_celery_tls_encrypted_database_backend\(\)$/m);
  });
});

describe('securityEnvironment: the variables naming the secrets by ARN', () => {
  test('each ARN given, by the name the Python reads; nothing without security', () => {
    const token = '${Token[TOKEN.7]}';
    const model = new CeleryConfig(
      input({
        signing: { keyPairSecretArn: token, certStore: '/etc/celery/signers' },
        resultEncryption: { keySecretArn: ARN('k') },
      }),
      { isUnresolved: (v) => typeof v === 'string' && v.startsWith('${Token[') },
    ).model;
    expect(securityEnvironment(model.security)).toEqual({
      CELERY_TLS_SIGNING_KEYPAIR_SECRET_ARN: token,
      CELERY_TLS_RESULT_KEY_SECRET_ARN: ARN('k'),
    });
    expect(securityEnvironment(undefined)).toEqual({});
    expect(PYTHON_SECURITY).toContain('p + "KEYPAIR_SECRET_ARN"');
    expect(PYTHON_SECURITY).toContain('p + "CERTIFICATES_SECRET_ARN"');
    expect(PYTHON_SECURITY).toContain('p + "_SECRET_ARN"');
    expect(PYTHON_SECURITY).toContain('_CELERY_TLS_SIGNING_PREFIX = "CELERY_TLS_SIGNING_"');
    expect(PYTHON_SECURITY).toContain('_CELERY_TLS_RESULT_KEY_PREFIX = "CELERY_TLS_RESULT_KEY"');
  });
});

describe('the Python embedded from lib/core/celery/security.py', () => {
  const MARKER = '# ---- embedded from here on ----\n';
  const source = readFileSync(join(ROOT, 'lib', 'core', 'celery', 'security.py'), 'utf8');

  test('PYTHON_SECURITY is the .py file after its marker line, and the generated module is up to date', () => {
    expect(PYTHON_SECURITY).toBe(source.slice(source.indexOf(MARKER) + MARKER.length));
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'embed-python.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('the header above the marker is comments only', () => {
    const header = source.slice(0, source.indexOf(MARKER)).split('\n').slice(0, -1);
    expect(header.every((line) => line === '#' || line.startsWith('# '))).toBe(true);
  });

  test('the names the TypeScript side renders are the ones the Python registers', () => {
    expect(PYTHON_SECURITY).toContain(`_CELERY_TLS_ENCRYPTED = "${SECURITY_DEFAULTS.encryptedSerializer}"`);
    expect(PYTHON_SECURITY).toContain(`_CELERY_TLS_ENCRYPTED_TYPE = "${SECURITY_DEFAULTS.encryptedContentType}"`);
    expect(PYTHON_SECURITY).toContain(
      `_CELERY_TLS_DIGESTS = (${SECURITY_DEFAULTS.digests.map((d) => `"${d}"`).join(', ')})`,
    );
    expect(PYTHON_SECURITY).toContain(`def ${SECURITY_DEFAULTS.setupFunction}(app):`);
  });
});

describe('the manifest and the environment carry the security options (ARNs only)', () => {
  const config = new CeleryConfig(input({ signing: SIGNING, resultEncryption: { keySecretArn: ARN('ring') } }));

  test('a manifest round trip keeps signing and encryption: the settings rendered from it sign and encrypt', () => {
    const manifest = JSON.stringify(config.toManifest());
    expect(JSON.parse(manifest).security).toEqual({
      signing: { ...SIGNING, digest: 'sha256', serializer: 'json' },
      resultEncryption: { keySecretArn: ARN('ring'), arguments: false, databaseBackend: false },
    });
    const again = CeleryConfig.fromManifest(manifest);
    expect(again.model.security).toEqual(config.model.security);
    expect(again.toPythonModule()).toContain('task_serializer = "auth"');
  });

  test('a manifest without security options has no security key', () => {
    expect(new CeleryConfig({ broker, resultBackend: rediss }).toManifest()).not.toHaveProperty('security');
  });

  test('toEnvironment() names the three secrets, beside the endpoints', () => {
    expect(config.toEnvironment()).toMatchObject({
      ...securityEnvironment(config.model.security),
      CELERY_TLS_BROKER_HOST: broker.host,
    });
    expect(Object.values(securityEnvironment(config.model.security)).sort()).toEqual(
      [ARN('key'), ARN('store'), ARN('ring')].sort(),
    );
  });
});
