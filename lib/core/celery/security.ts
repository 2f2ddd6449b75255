import { IssueCollector, ResolveContext, show } from '../errors';
import { PYTHON_SECURITY } from './python-security';

/**
 * Message signing with Celery's `auth` serializer (`celery.security`): every task message carries an RSA-PSS signature
 * over its body, and workers run only messages signed by a certificate of the store. It signs, it does not encrypt,
 * and it checks no CA chain: the store is the list of trusted signers. Task name and id travel in unsigned headers.
 *
 * Each role (producer, worker) signs with its own key: a secret `{"certificate", "private_key"}` (PEM, RSA >= 2048
 * bits, unencrypted), injected as `CELERY_TLS_SIGNING_KEYPAIR` or read at start-up by ARN. The store holds the
 * certificate of every signer (producers' and workers': workers sign the tasks they send, chains and callbacks).
 */
export interface CelerySigningOptions {
  /**
   * Secret `{"certificate", "private_key"}` (PEM) with this role's signing key and certificate, read with boto3 at
   * start-up unless `CELERY_TLS_SIGNING_KEYPAIR` holds it (ECS: inject the same secret). Written to 0600 files.
   * @default - `keyFile` and `certificateFile`, or the variables at run time
   */
  readonly keyPairSecretArn?: string;
  /** Path of this role's private key (PEM, RSA, unencrypted); given together with `certificateFile`. */
  readonly keyFile?: string;
  /** Path of this role's certificate (PEM, RSA); given together with `keyFile`. */
  readonly certificateFile?: string;
  /** Path of the certificate store: a directory of PEM files (one certificate each) or one PEM bundle file. */
  readonly certStore?: string;
  /**
   * Secret holding the store as a PEM bundle of every signer's certificate (or JSON `{"certificates": "<PEM>"}`),
   * read at start-up unless `CELERY_TLS_SIGNING_CERTIFICATES` holds it.
   */
  readonly certStoreSecretArn?: string;
  /**
   * `security_digest`: the hash of the RSA-PSS signature.
   * @default "sha256"
   */
  readonly digest?: string;
  /**
   * The serializer of the signed body (Celery's `setup_security(serializer=...)`). Only "json": pickle, yaml and
   * msgpack build objects from what a message holds, and a signature from any signer does not make that safe.
   * @default "json" (the encrypting serializer when `resultEncryption.arguments` is on)
   */
  readonly serializer?: string;
}

/**
 * Result encryption at rest: results (and, by choice, task arguments) serialized as JSON and sealed with AES-256-GCM
 * by a serializer registered with kombu (`celery_tls_aesgcm`). The key ring is secret strings (at least 32 random
 * characters, or JSON `{"key": ...}`); the AES key and a key id are derived from each with HKDF-SHA256, and every
 * ciphertext names its key id, so results written before a rotation read with the previous key.
 *
 * At run time: `CELERY_TLS_RESULT_KEY` (the secret's AWSCURRENT value, injected) and `CELERY_TLS_RESULT_KEY_PREVIOUS`
 * (its AWSPREVIOUS value, or a JSON list of older values), or `CELERY_TLS_RESULT_KEY_SECRET_ARN`: both versions read
 * at start-up, and read again (at most every 30 s) when a value names a key id the ring lacks.
 */
export interface CeleryResultEncryptionOptions {
  /**
   * The key secret (its AWSCURRENT and AWSPREVIOUS versions form the ring).
   * @default - the variables at run time
   */
  readonly keySecretArn?: string;
  /**
   * Encrypt task arguments too (`task_serializer`). With signing, the signed body is the ciphertext (encrypted, then
   * signed; verified before it is decrypted). Celery's argsrepr/kwargsrepr headers are blanked before publishing.
   * @default false
   */
  readonly arguments?: boolean;
}

/** Message signing and result encryption; each is off unless given. */
export interface CelerySecurityOptions {
  /** Sign task messages (Celery's auth serializer). @default - not signed */
  readonly signing?: CelerySigningOptions;
  /** Encrypt results (and optionally arguments) at rest. @default - not encrypted */
  readonly resultEncryption?: CeleryResultEncryptionOptions;
}

/** The resolved security options: the given ones with their defaults. */
export interface CelerySecurityModel {
  /** Signing, when on, with its digest and body serializer resolved. */
  readonly signing?: CelerySigningOptions & { readonly digest: string; readonly serializer: string };
  /** Result encryption, when on. */
  readonly resultEncryption?: CeleryResultEncryptionOptions & {
    readonly arguments: boolean;
    /**
     * A PostgreSQL result backend: Celery's database backend pickles the result's value and ignores
     * result_serializer, so results go through the settings' encrypting subclass (the `celery_tls_db` alias).
     */
    readonly databaseBackend: boolean;
  };
}

/** Defaults and fixed names of the security settings (the Python side, security.py, uses the same names). */
export const SECURITY_DEFAULTS = {
  digest: 'sha256',
  serializer: 'json',
  encryptedSerializer: 'celery_tls_aesgcm',
  encryptedContentType: 'application/x-celery-tls-aesgcm',
  /** Hashes Celery can sign with (cryptography's hashes) that are no weaker than SHA-256. */
  digests: ['sha256', 'sha384', 'sha512', 'sha3_256', 'sha3_384', 'sha3_512'],
  /** Serializers refused anywhere: they build arbitrary objects (code execution for pickle). */
  unsafeSerializers: ['pickle', 'yaml', 'msgpack'],
  setupFunction: 'celery_tls_setup_security',
  djangoSetupFunction: 'CELERY_TLS_SETUP_SECURITY',
} as const;

const ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

function checkArn(issues: IssueCollector, prop: string, value: string | undefined): void {
  if (issues.known(value) && (typeof value !== 'string' || !ARN.test(value)))
    issues.error(
      'celery.security-secret',
      prop,
      `${prop} ${show(value)} is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>).`,
    );
}

/**
 * Validates the security options against the rest of the configuration and applies the defaults.
 * @param resultBackendScheme the result backend's scheme, or undefined without one
 */
export function resolveCelerySecurity(
  issues: IssueCollector,
  input: CelerySecurityOptions | undefined,
  resultBackendScheme: string | undefined,
  prop = 'security',
): CelerySecurityModel | undefined {
  if (input === undefined) return undefined;
  const s = input.signing;
  const e = input.resultEncryption;
  let signing: CelerySecurityModel['signing'];
  let resultEncryption: CelerySecurityModel['resultEncryption'];
  if (s !== undefined) {
    const p = `${prop}.signing`;
    if (s.keyPairSecretArn === undefined && s.keyFile === undefined && s.certificateFile === undefined)
      issues.error(
        'celery.signing-key',
        `${p}.keyPairSecretArn`,
        `${p}.keyPairSecretArn is missing: give this role's signing key pair, as a secret ARN ({"certificate", "private_key"}) or as ${p}.keyFile and ${p}.certificateFile.`,
      );
    if ((s.keyFile === undefined) !== (s.certificateFile === undefined))
      issues.error(
        'celery.signing-key',
        `${p}.keyFile`,
        `${p}.keyFile and ${p}.certificateFile go together: give both, or neither (then ${p}.keyPairSecretArn).`,
      );
    if (s.keyPairSecretArn !== undefined && s.keyFile !== undefined)
      issues.error(
        'celery.signing-key',
        `${p}.keyPairSecretArn`,
        `${p}.keyPairSecretArn and ${p}.keyFile are two sources of one key: give one.`,
      );
    if (s.certStore === undefined && s.certStoreSecretArn === undefined)
      issues.error(
        'celery.signing-store',
        `${p}.certStore`,
        `${p}.certStore is missing: signing without a certificate store verifies nothing. Give ${p}.certStore (a directory or PEM bundle of every signer's certificate) or ${p}.certStoreSecretArn.`,
      );
    if (s.certStore !== undefined && s.certStoreSecretArn !== undefined)
      issues.error(
        'celery.signing-store',
        `${p}.certStoreSecretArn`,
        `${p}.certStore and ${p}.certStoreSecretArn are two sources of one store: give one.`,
      );
    checkArn(issues, `${p}.keyPairSecretArn`, s.keyPairSecretArn);
    checkArn(issues, `${p}.certStoreSecretArn`, s.certStoreSecretArn);
    const digest = s.digest ?? SECURITY_DEFAULTS.digest;
    if (issues.known(s.digest) && !(SECURITY_DEFAULTS.digests as readonly string[]).includes(s.digest))
      issues.error(
        'celery.signing-digest',
        `${p}.digest`,
        `${p}.digest ${show(s.digest)} is not allowed: ${/^(md5|sha1|sha224)$/i.test(String(s.digest)) ? 'it is weaker than SHA-256. ' : ''}Allowed: ${SECURITY_DEFAULTS.digests.map((d) => show(d)).join(', ')}.`,
      );
    if (issues.known(s.serializer) && s.serializer !== SECURITY_DEFAULTS.serializer) {
      const unsafe = (SECURITY_DEFAULTS.unsafeSerializers as readonly string[]).includes(String(s.serializer));
      issues.error(
        'celery.signing-serializer',
        `${p}.serializer`,
        `${p}.serializer ${show(s.serializer)} is not allowed${unsafe ? `: ${show(s.serializer)} builds arbitrary objects from a message (pickle runs code), and a valid signature from any signer does not make that safe` : ''}. Allowed: "json" (with ${prop}.resultEncryption.arguments the body is encrypted JSON).`,
      );
    }
    signing = {
      ...s,
      digest,
      serializer: e?.arguments ? SECURITY_DEFAULTS.encryptedSerializer : SECURITY_DEFAULTS.serializer,
    };
  }
  if (e !== undefined) {
    const p = `${prop}.resultEncryption`;
    checkArn(issues, `${p}.keySecretArn`, e.keySecretArn);
    if (resultBackendScheme === undefined && !e.arguments)
      issues.error(
        'celery.encryption-backend',
        p,
        `${p} encrypts nothing without a result backend: give resultBackend, or ${p}.arguments true to encrypt task arguments.`,
      );
    resultEncryption = { ...e, arguments: e.arguments ?? false, databaseBackend: resultBackendScheme === 'postgresql' };
  }
  return { signing, resultEncryption };
}

/** The serializer settings, in the order the settings write them: [name, Python expression]. */
export function serializerSettings(security: CelerySecurityModel | undefined): [string, string][] {
  const j = (v: unknown) => JSON.stringify(v);
  const encrypted = SECURITY_DEFAULTS.encryptedSerializer;
  const task = security?.signing ? 'auth' : security?.resultEncryption?.arguments ? encrypted : 'json';
  const result = security?.resultEncryption ? encrypted : 'json';
  const out: [string, string][] = [
    ['task_serializer', j(task)],
    ['result_serializer', j(result)],
    ['accept_content', j([task])],
    ['result_accept_content', j([result])],
  ];
  const s = security?.signing;
  if (s) {
    out.push(
      ['security_key', '_celery_tls_signing_paths[0]'],
      ['security_certificate', '_celery_tls_signing_paths[1]'],
      ['security_cert_store', '_celery_tls_signing_paths[2]'],
      ['security_digest', j(s.digest)],
    );
  }
  return out;
}

function literal(value: unknown, ctx: ResolveContext): string {
  if (value === undefined || value === null || ctx.isUnresolved(value)) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return JSON.stringify(String(value));
}

function dict(entries: [string, unknown][], ctx: ResolveContext): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${literal(v, ctx)}`).join(', ')}}`;
}

/** The Python that runs before the settings: the embedded part, then the key files and the key ring. */
export function securityPrelude(security: CelerySecurityModel | undefined, ctx: ResolveContext): string[] {
  if (!security) return [];
  const lines = [PYTHON_SECURITY];
  const e = security.resultEncryption;
  if (e)
    lines.push(
      `_celery_tls_result_encryption(${dict(
        [
          ['key_secret_arn', e.keySecretArn],
          ['arguments', e.arguments],
        ],
        ctx,
      )})`,
      ...(e.databaseBackend ? ['_celery_tls_encrypted_database_backend()'] : []),
    );
  const s = security.signing;
  if (s)
    lines.push(
      `_celery_tls_signing_paths = _celery_tls_signing(${dict(
        [
          ['key_pair_secret_arn', s.keyPairSecretArn],
          ['key_file', s.keyFile],
          ['certificate_file', s.certificateFile],
          ['cert_store', s.certStore],
          ['certificates_secret_arn', s.certStoreSecretArn],
          ['digest', s.digest],
          ['serializer', s.serializer],
        ],
        ctx,
      )})`,
    );
  return lines;
}

/**
 * The Python after the settings and their TLS assertion: the encrypting database backend's URL (the asserted
 * db+postgresql URL, only its alias changed), the setup function the application calls (and its Django name), the
 * guard. Ends with an empty line.
 */
export function securityEpilogue(security: CelerySecurityModel | undefined, flavor: 'module' | 'django'): string[] {
  if (!security) return [];
  const args = serializerSettings(security)
    .slice(0, 4)
    .map(([, expr]) => expr);
  const lines: string[] = [];
  if (security.resultEncryption?.databaseBackend) {
    const setting = flavor === 'django' ? 'CELERY_RESULT_BACKEND' : 'result_backend';
    lines.push(
      '# Results through the encrypting database backend: Celery pickles them in plaintext otherwise.',
      `${setting} = _celery_tls_encrypted_database_url(${setting})`,
    );
  }
  lines.push(
    `# Call ${SECURITY_DEFAULTS.setupFunction}(app) once, after app.config_from_object(...), in every producer and worker.`,
    `${SECURITY_DEFAULTS.setupFunction} = _celery_tls_make_setup_security(${[args[0], args[2], args[1], args[3]].join(', ')})`,
  );
  if (flavor === 'django')
    lines.push(
      `# From Django: django.conf.settings.${SECURITY_DEFAULTS.djangoSetupFunction}(app) (Django exposes upper-case names only).`,
      `${SECURITY_DEFAULTS.djangoSetupFunction} = ${SECURITY_DEFAULTS.setupFunction}`,
    );
  lines.push(`_celery_tls_security_guard(${security.signing ? 'True' : 'False'})`, '');
  return lines;
}

/** Header lines: what the settings read from the environment for signing and encryption. */
export function securityEnvDoc(security: CelerySecurityModel | undefined): string[] {
  if (!security) return [];
  const out: string[] = [];
  if (security.signing)
    out.push(
      `Message signing (auth serializer, ${security.signing.digest}): call ${SECURITY_DEFAULTS.setupFunction}(app) after app.config_from_object().`,
      '  CELERY_TLS_SIGNING_KEYPAIR (the secret {"certificate", "private_key"}, injected) or CELERY_TLS_SIGNING_KEYPAIR_SECRET_ARN,',
      '  or CELERY_TLS_SIGNING_KEYFILE + CELERY_TLS_SIGNING_CERTFILE; RSA >= 2048 bits, unencrypted, written to 0600 files',
      '  CELERY_TLS_SIGNING_CERT_STORE (a directory or PEM bundle of every signer), CELERY_TLS_SIGNING_CERTIFICATES (the bundle,',
      '  injected) or CELERY_TLS_SIGNING_CERTIFICATES_SECRET_ARN',
    );
  if (security.resultEncryption)
    out.push(
      `Result encryption (AES-256-GCM${security.resultEncryption.arguments ? ', task arguments too' : ''}): CELERY_TLS_RESULT_KEY (the key secret's AWSCURRENT value) and`,
      '  CELERY_TLS_RESULT_KEY_PREVIOUS (AWSPREVIOUS), or CELERY_TLS_RESULT_KEY_SECRET_ARN (both versions read at start-up)',
    );
  return out;
}

/** The variables that name the secrets by ARN, for `toEnvironment()`: how the settings find deploy-time ARNs. */
export const SECURITY_ENV_NAMES = {
  keyPairSecretArn: 'CELERY_TLS_SIGNING_KEYPAIR_SECRET_ARN',
  certStoreSecretArn: 'CELERY_TLS_SIGNING_CERTIFICATES_SECRET_ARN',
  resultKeySecretArn: 'CELERY_TLS_RESULT_KEY_SECRET_ARN',
  /** Injected secret values (ECS `secrets`), which win over the ARNs. */
  keyPair: 'CELERY_TLS_SIGNING_KEYPAIR',
  certificates: 'CELERY_TLS_SIGNING_CERTIFICATES',
  resultKey: 'CELERY_TLS_RESULT_KEY',
  resultKeyPrevious: 'CELERY_TLS_RESULT_KEY_PREVIOUS',
} as const;

/**
 * The non-secret variables of the security options: each secret ARN given (values may be deploy-time tokens, which
 * the rendered settings cannot hold and read from these instead). Paths are rendered into the settings, not here.
 */
export function securityEnvironment(security: CelerySecurityModel | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) out[name] = value;
  };
  set(SECURITY_ENV_NAMES.keyPairSecretArn, security?.signing?.keyPairSecretArn);
  set(SECURITY_ENV_NAMES.certStoreSecretArn, security?.signing?.certStoreSecretArn);
  set(SECURITY_ENV_NAMES.resultKeySecretArn, security?.resultEncryption?.keySecretArn);
  return out;
}
