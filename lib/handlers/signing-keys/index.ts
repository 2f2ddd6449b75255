/**
 * The key material of Celery's message signing and result encryption (lib/core/security-keys.ts plans it):
 * - `onEvent` (CloudFormation custom resource) and `onInvocation` (Terraform `aws_lambda_invocation`, CRUD) make each
 *   role's RSA-3072 key and certificate (self-signed, or issued by an AWS Private CA with the code-signing template)
 *   into the role's secret `{"certificate", "private_key", ...}`, and the store `{"certificates": "<PEM>"}` of every
 *   signer; an Update with a new key generation or issuer replaces the keys; Delete overwrites what it wrote.
 * - `onRotate` (Secrets Manager) renews a key pair (the store gains the new certificate before it is used, and keeps
 *   the replaced one until the next renewal), rebuilds the store, or puts a new random result key (AWSPREVIOUS then
 *   holds the old one).
 * The store is always rebuilt from the key-pair secrets themselves (AWSCURRENT, AWSPREVIOUS, AWSPENDING), leaving out
 * certificates about to expire (the settings refuse an expired one at start-up). No key or secret is ever logged,
 * returned or put in an error.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { SECURITY_KEYS_DEFAULTS, signingTemplateArn } from '../../core/security-keys';
import { CURRENT, PENDING, redact, rotationHandler, sdkRotationSecrets } from '../shared/rotation';
import type { RotationEvent, RotationSecrets } from '../shared/rotation';
import { isRotationEvent, requestFromInvocation } from '../shared/invocation';
import type { TerraformInvocation } from '../shared/invocation';
import type { PrivateCa } from '../client-certificates';
import { sdkPrivateCa as sdkClientCertificatesCa } from '../client-certificates';

export type { RotationEvent } from '../shared/rotation';
export type { PrivateCa } from '../client-certificates';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const PREVIOUS = 'AWSPREVIOUS';
const DAY_MS = 24 * 3600 * 1000;
const SELF_SIGNED = 'self-signed';
const ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: SECURITY_KEYS_DEFAULTS.keySizeBits,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

/** The Secrets Manager calls beyond rotation's: a new AWSCURRENT version, and removing a stage from a version. */
export interface SigningKeysSecrets extends RotationSecrets {
  /** PutSecretValue as AWSCURRENT (Secrets Manager moves AWSPREVIOUS to the version it replaces). */
  putCurrent(arn: string, value: string): Promise<void>;
  /** UpdateSecretVersionStage, removing `stage` from `versionId`. */
  removeStage(arn: string, stage: string, versionId: string): Promise<void>;
}

/** How certificates are issued. */
export interface IssueConfig {
  /** @default - self-signed */
  readonly caArn?: string;
  readonly signingAlgorithm: string;
  readonly validityDays: number;
  readonly waitSeconds: number;
  readonly pollMilliseconds: number;
}

/** A role's key-pair secret as the settings read it (`certificate`, `private_key`) with non-secret facts. */
export interface KeyPairDocument {
  readonly role: string;
  readonly common_name: string;
  readonly certificate: string;
  readonly private_key: string;
  readonly not_after: string;
  /** "self-signed" or the CA's ARN. */
  readonly issuer: string;
  readonly generation: number;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // positive; random, so that issuer + serial (Celery's certificate id) is unique
  return bytes.toString('hex');
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

/**
 * Checks a signing certificate against its key: the name, an RSA key of at least the library's size that is the
 * certificate's, and the validity. Returns the parsed certificate.
 */
export function checkKeyPair(certPem: string, keyPem: string, cn: string, now = new Date()): x509.X509Certificate {
  const cert = new x509.X509Certificate(certPem);
  const got = cert.subjectName.getField('CN')[0];
  if (got !== cn) throw new Error(`the certificate names CN=${got}, expected CN=${cn}`);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new Error(`the private key of CN=${cn} is not a readable unencrypted PEM key`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < SECURITY_KEYS_DEFAULTS.keySizeBits)
    throw new Error(
      `the key of CN=${cn} is ${key.asymmetricKeyType} ${bits}: Celery signs with RSA, here ${SECURITY_KEYS_DEFAULTS.keySizeBits} bits`,
    );
  const fromKey = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (!Buffer.from(cert.publicKey.rawData).equals(fromKey))
    throw new Error(`the certificate of CN=${cn} is not for its private key`);
  if (cert.notBefore > now || cert.notAfter <= now)
    throw new Error(
      `the certificate of CN=${cn} is not valid now (${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`,
    );
  return cert;
}

/** A new RSA-3072 key and its certificate: self-signed, or issued by the CA (`token` makes issuing idempotent). */
export async function newKeyPair(
  cn: string,
  config: IssueConfig,
  ca: PrivateCa,
  token: string,
): Promise<{ keyPem: string; certPem: string; notAfter: string; issuer: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const keyPem = await pkcs8Pem(keys.privateKey);
  const x509Keys = keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
  let certPem: string;
  if (!config.caArn) {
    const notBefore = new Date(Date.now() - 5 * 60_000);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=${cn}`,
      notBefore,
      notAfter: new Date(notBefore.getTime() + config.validityDays * DAY_MS),
      signingAlgorithm: ALGORITHM,
      keys: x509Keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(x509Keys.publicKey),
      ],
    });
    certPem = cert.toString('pem').trim() + '\n';
  } else {
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=${cn}`,
      keys: x509Keys,
      signingAlgorithm: ALGORITHM,
    });
    const certificateArn = await ca.issue({
      caArn: config.caArn,
      csrPem: csr.toString('pem'),
      validityDays: config.validityDays,
      signingAlgorithm: config.signingAlgorithm,
      // At most 36 characters; the same token returns the same certificate when a step is retried.
      idempotencyToken: token.replace(/[^A-Za-z0-9]/g, '').slice(0, 36),
    });
    const deadline = Date.now() + config.waitSeconds * 1000;
    let issued: { certificate: string } | undefined;
    while (!(issued = await ca.get({ caArn: config.caArn, certificateArn }))) {
      if (Date.now() >= deadline)
        throw new Error(`AWS Private CA did not return ${certificateArn} within ${config.waitSeconds} s`);
      await new Promise((r) => setTimeout(r, config.pollMilliseconds));
    }
    certPem = issued.certificate.trim() + '\n';
  }
  const cert = checkKeyPair(certPem, keyPem, cn);
  return { keyPem, certPem, notAfter: cert.notAfter.toISOString(), issuer: config.caArn ?? SELF_SIGNED };
}

function parseJson(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  try {
    const v = JSON.parse(value);
    return v && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The store from the key-pair secrets: every certificate of their AWSCURRENT, AWSPREVIOUS and AWSPENDING versions
 * that is valid for longer than the margin, once each, in a stable order (by secret, then stage).
 */
export async function buildStore(
  secrets: RotationSecrets,
  keyPairArns: readonly string[],
  known: string[],
  now = new Date(),
): Promise<{ certificates: string; signers: { common_name: string; serial: string; not_after: string }[] }> {
  const margin = SECURITY_KEYS_DEFAULTS.storeMarginHours * 3600 * 1000;
  const pems: string[] = [];
  const signers: { common_name: string; serial: string; not_after: string }[] = [];
  for (const arn of keyPairArns) {
    for (const stage of [CURRENT, PENDING, PREVIOUS]) {
      const doc = parseJson(await secrets.get(arn, { stage }));
      if (typeof doc?.private_key === 'string') known.push(doc.private_key);
      if (typeof doc?.certificate !== 'string' || !doc.certificate) continue;
      let cert: x509.X509Certificate;
      try {
        cert = new x509.X509Certificate(doc.certificate);
      } catch {
        continue;
      }
      if (cert.notAfter.getTime() - margin <= now.getTime() || cert.notBefore > now) continue;
      const pem = cert.toString('pem').trim() + '\n';
      if (pems.includes(pem)) continue;
      pems.push(pem);
      signers.push({
        common_name: cert.subjectName.getField('CN')[0] ?? '',
        serial: cert.serialNumber,
        not_after: cert.notAfter.toISOString(),
      });
    }
  }
  return { certificates: pems.join(''), signers };
}

/** Rebuilds the store and writes it when its certificates changed; returns the certificates it holds. */
export async function syncStore(
  secrets: SigningKeysSecrets,
  storeArn: string,
  keyPairArns: readonly string[],
  known: string[],
  log: (line: string) => void,
): Promise<string> {
  const store = await buildStore(secrets, keyPairArns, known);
  const current = parseJson(await secrets.get(storeArn, { stage: CURRENT }));
  if (current?.certificates === store.certificates) return store.certificates;
  await secrets.putCurrent(storeArn, JSON.stringify(store));
  log(
    `store: ${store.signers.length} certificate(s): ${store.signers.map((s) => `CN=${s.common_name} serial ${s.serial} until ${s.not_after}`).join('; ')}`,
  );
  return store.certificates;
}

/** One role of the custom resource. */
export interface SigningKeysRole {
  readonly Role: string;
  readonly CommonName: string;
  readonly SecretArn: string;
}

/** The custom resource's properties (CloudFormation passes numbers as strings). */
export interface SigningKeysProperties {
  readonly StoreSecretArn: string;
  readonly Roles: readonly SigningKeysRole[];
  /** @default - self-signed */
  readonly CaArn?: string;
  /** @default "SHA256WITHRSA" */
  readonly SigningAlgorithm?: string;
  readonly ValidityDays: number | string;
  /** Raised to replace every key. @default 1 */
  readonly KeyGeneration?: number | string;
}

export interface SigningKeysEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: SigningKeysProperties;
  readonly OldResourceProperties?: SigningKeysProperties;
  readonly PhysicalResourceId?: string;
}

export interface SigningKeysResponse {
  readonly PhysicalResourceId: string;
  /** Non-secret facts only. */
  readonly Data: { readonly Roles: string; readonly KeyGeneration: string; readonly NotAfter: string };
}

export interface SigningKeysDependencies {
  readonly secrets?: SigningKeysSecrets;
  readonly ca?: PrivateCa;
  /** Receives progress lines (names, serials, dates: never a key). @default console.log */
  readonly log?: (line: string) => void;
  readonly waitSeconds?: number;
  readonly pollMilliseconds?: number;
}

const PHYSICAL_ID = 'celery-signing-keys';

function validate(props: SigningKeysProperties | undefined) {
  if (!props) throw new Error('ResourceProperties are missing');
  if (typeof props.StoreSecretArn !== 'string' || !props.StoreSecretArn)
    throw new Error('StoreSecretArn must be a secret ARN');
  if (!Array.isArray(props.Roles) || props.Roles.length === 0) throw new Error('Roles must be a non-empty list');
  for (const r of props.Roles) {
    if (typeof r?.SecretArn !== 'string' || !r.SecretArn) throw new Error('every role needs a SecretArn');
    if (typeof r.CommonName !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(r.CommonName))
      throw new Error(`CommonName ${JSON.stringify(r?.CommonName)}: letters, digits, "." "_" "-", at most 64`);
  }
  const validityDays = Number(props.ValidityDays);
  if (!Number.isInteger(validityDays) || validityDays < 2)
    throw new Error(`ValidityDays ${JSON.stringify(props.ValidityDays)} must be a whole number of days, 2 or more`);
  const generation = props.KeyGeneration === undefined ? 1 : Number(props.KeyGeneration);
  if (!Number.isInteger(generation) || generation < 1)
    throw new Error(`KeyGeneration ${JSON.stringify(props.KeyGeneration)} must be a whole number from 1`);
  return {
    storeArn: props.StoreSecretArn,
    roles: props.Roles,
    validityDays,
    generation,
    caArn: props.CaArn || undefined,
    signingAlgorithm: props.SigningAlgorithm ?? SECURITY_KEYS_DEFAULTS.caSigningAlgorithm,
  };
}

/** Builds the custom-resource handler (tests inject the secrets and the CA). */
export function createHandler(
  deps: SigningKeysDependencies = {},
): (event: SigningKeysEvent) => Promise<SigningKeysResponse> {
  const log = deps.log ?? ((line: string) => console.log(line));
  return async (event) => {
    const secrets = deps.secrets ?? sdkSigningKeysSecrets();
    const ca = deps.ca ?? sdkPrivateCa();
    const known: string[] = [];
    try {
      const p = validate(event.ResourceProperties);
      const arns = p.roles.map((r) => r.SecretArn);
      if (event.RequestType === 'Delete') {
        for (const arn of [...arns, p.storeArn]) await overwrite(secrets, arn, log);
        return { PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_ID, Data: data(p.roles, p.generation, []) };
      }
      if (event.RequestType !== 'Create' && event.RequestType !== 'Update')
        throw new Error(`RequestType ${JSON.stringify(event.RequestType)} is not Create, Update or Delete`);
      const issuer = p.caArn ?? SELF_SIGNED;
      const notAfter: string[] = [];
      for (const r of p.roles) {
        const current = parseJson(await secrets.get(r.SecretArn, { stage: CURRENT }));
        if (typeof current?.private_key === 'string') known.push(current.private_key);
        const keep =
          current?.issuer === issuer &&
          Number(current?.generation) === p.generation &&
          current?.common_name === r.CommonName &&
          typeof current?.not_after === 'string' &&
          Date.parse(current.not_after) - Date.now() > SECURITY_KEYS_DEFAULTS.storeMarginHours * 3600 * 1000;
        if (keep) {
          log(`${r.Role}: the current key pair (generation ${p.generation}, ${issuer}) is kept`);
          notAfter.push(String(current!.not_after));
          continue;
        }
        const pair = await newKeyPair(
          r.CommonName,
          {
            caArn: p.caArn,
            signingAlgorithm: p.signingAlgorithm,
            validityDays: p.validityDays,
            waitSeconds: deps.waitSeconds ?? SECURITY_KEYS_DEFAULTS.issueWaitSeconds,
            pollMilliseconds: deps.pollMilliseconds ?? 2_000,
          },
          ca,
          `${r.Role}${p.generation}${r.SecretArn}`.split('').reverse().join(''),
        );
        known.push(pair.keyPem);
        const doc: KeyPairDocument = {
          role: r.Role,
          common_name: r.CommonName,
          certificate: pair.certPem,
          private_key: pair.keyPem,
          not_after: pair.notAfter,
          issuer: pair.issuer,
          generation: p.generation,
        };
        await secrets.putCurrent(r.SecretArn, JSON.stringify(doc));
        log(
          `${r.Role}: new RSA ${SECURITY_KEYS_DEFAULTS.keySizeBits} key pair for CN=${r.CommonName} (${issuer}), valid until ${pair.notAfter}`,
        );
        notAfter.push(pair.notAfter);
      }
      await syncStore(secrets, p.storeArn, arns, known, log);
      return {
        PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_ID,
        Data: data(p.roles, p.generation, notAfter),
      };
    } catch (err) {
      throw new Error(redact(`${event.RequestType} of the signing keys failed: ${(err as Error).message}`, known));
    }
  };
}

function data(
  roles: readonly SigningKeysRole[],
  generation: number,
  notAfter: readonly string[],
): SigningKeysResponse['Data'] {
  return {
    Roles: roles.map((r) => r.Role).join(','),
    KeyGeneration: String(generation),
    NotAfter: roles.map((r, i) => `${r.Role}=${notAfter[i] ?? ''}`).join(','),
  };
}

/**
 * Delete: what the function wrote goes from every labelled version. A new AWSCURRENT without key or certificate, and
 * AWSPREVIOUS taken off the version it replaced (unlabelled versions are removed by Secrets Manager). A secret that is
 * already gone is skipped.
 */
async function overwrite(secrets: SigningKeysSecrets, arn: string, log: (line: string) => void): Promise<void> {
  let before;
  try {
    before = await secrets.describe(arn);
  } catch (err) {
    if (/ResourceNotFound|not found|scheduled for deletion/i.test(`${(err as Error).name} ${(err as Error).message}`)) {
      log(`delete: ${arn} is gone`);
      return;
    }
    throw err;
  }
  const doc = parseJson(await secrets.get(arn, { stage: CURRENT }));
  const kept: Record<string, unknown> = {};
  for (const k of ['role', 'common_name']) if (typeof doc?.[k] === 'string') kept[k] = doc[k];
  await secrets.putCurrent(
    arn,
    JSON.stringify({ ...kept, deleted: true, ...(doc && 'certificates' in doc ? { certificates: '' } : {}) }),
  );
  const after = await secrets.describe(arn);
  for (const [id, stages] of Object.entries(after.versions))
    if (stages.includes(PREVIOUS) && before.versions[id]) await secrets.removeStage(arn, PREVIOUS, id);
  log(`delete: ${arn} holds no key or certificate in any labelled version`);
}

/** Rotation of the key pairs (renewal) and of the result key (a new random value). */
export function createRotationHandler(
  config: IssueConfig & {
    readonly storeSecretArn?: string;
    readonly keyPairSecretArns: readonly string[];
    readonly resultKeySecretArn?: string;
  },
  secrets: SigningKeysSecrets,
  ca: PrivateCa,
  log: (line: string) => void = console.log,
): (event: RotationEvent) => Promise<void> {
  const d = SECURITY_KEYS_DEFAULTS;
  const resultKey = rotationHandler(
    secrets,
    {
      async createSecret({ arn, token, known }) {
        if ((await secrets.get(arn, { stage: PENDING, versionId: token })) !== undefined) return;
        const key = await secrets.randomPassword(d.resultKeyLength);
        known.push(key);
        await secrets.putPending(arn, token, JSON.stringify({ [d.resultKeyField]: key }));
        log('createSecret: a new result key is pending');
      },
      async setSecret() {
        log('setSecret: nothing to set (readers take the new key from the secret)');
      },
      async testSecret({ arn, token, known }) {
        const value = parseJson(await secrets.get(arn, { stage: PENDING, versionId: token }))?.[d.resultKeyField];
        if (typeof value === 'string') known.push(value);
        if (typeof value !== 'string' || !/^[A-Za-z0-9]{32,}$/.test(value))
          throw new Error(
            `the pending result key is not ${d.resultKeyLength} letters and digits in "${d.resultKeyField}"`,
          );
        log('testSecret: the pending result key is well formed');
      },
    },
    log,
  );
  const storeArn = config.storeSecretArn ?? '';
  const keyPair = rotationHandler(
    secrets,
    {
      async createSecret({ arn, token, known }) {
        if ((await secrets.get(arn, { stage: PENDING, versionId: token })) !== undefined) return;
        const current = parseJson(await secrets.get(arn, { stage: CURRENT }));
        if (typeof current?.private_key === 'string') known.push(current.private_key);
        const cn = current?.common_name;
        if (typeof cn !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(cn))
          throw new Error(`secret ${arn} has no usable "common_name"`);
        const pair = await newKeyPair(cn, config, ca, token);
        known.push(pair.keyPem);
        const doc: KeyPairDocument = {
          role: String(current?.role ?? ''),
          common_name: cn,
          certificate: pair.certPem,
          private_key: pair.keyPem,
          not_after: pair.notAfter,
          issuer: pair.issuer,
          generation: Number(current?.generation ?? d.keyGeneration),
        };
        await secrets.putPending(arn, token, JSON.stringify(doc));
        log(`createSecret: a new key pair for CN=${cn} is pending, valid until ${pair.notAfter}`);
      },
      async setSecret({ known }) {
        // Verifiers learn the new certificate before anyone signs with it.
        await syncStore(secrets, storeArn, config.keyPairSecretArns, known, log);
      },
      async testSecret({ arn, token, known }) {
        const doc = parseJson(await secrets.get(arn, { stage: PENDING, versionId: token }));
        if (typeof doc?.private_key === 'string') known.push(doc.private_key);
        const cert = checkKeyPair(
          String(doc?.certificate ?? ''),
          String(doc?.private_key ?? ''),
          String(doc?.common_name),
        );
        const pem = cert.toString('pem').trim() + '\n';
        // Another role's rotation may have written the store from an older read: write it again once.
        let store = String(parseJson(await secrets.get(storeArn, { stage: CURRENT }))?.certificates ?? '');
        if (!store.includes(pem)) store = await syncStore(secrets, storeArn, config.keyPairSecretArns, known, log);
        if (!store.includes(pem)) throw new Error('the store does not hold the pending certificate');
        log(`testSecret: the pending key pair of CN=${doc?.common_name} matches and the store holds its certificate`);
      },
      async finished({ known }) {
        // The replaced certificate is AWSPREVIOUS now and stays; the one before it leaves the store.
        await syncStore(secrets, storeArn, config.keyPairSecretArns, known, log);
      },
    },
    log,
  );
  // The store's own rotation rebuilds it from the key pairs (certificates near their end leave), so it never waits
  // for a renewal to drop one.
  const store = rotationHandler(
    secrets,
    {
      async createSecret({ arn, token, known }) {
        if ((await secrets.get(arn, { stage: PENDING, versionId: token })) !== undefined) return;
        const built = await buildStore(secrets, config.keyPairSecretArns, known);
        await secrets.putPending(arn, token, JSON.stringify(built));
        log(`createSecret: a store of ${built.signers.length} certificate(s) is pending`);
      },
      async setSecret() {
        log('setSecret: nothing to set (verifiers read the store at start-up)');
      },
      async testSecret({ arn, token }) {
        const doc = parseJson(await secrets.get(arn, { stage: PENDING, versionId: token }));
        if (typeof doc?.certificates !== 'string') throw new Error('the pending store has no "certificates"');
        log('testSecret: the pending store is well formed');
      },
      async finished({ known }) {
        // A key pair may have changed since createSecret: the store follows the key pairs as they are now.
        await syncStore(secrets, storeArn, config.keyPairSecretArns, known, log);
      },
    },
    log,
  );
  return async (event) => {
    if (config.resultKeySecretArn && event.SecretId === config.resultKeySecretArn) return resultKey(event);
    if (config.keyPairSecretArns.includes(event.SecretId) && storeArn) return keyPair(event);
    if (storeArn && event.SecretId === storeArn) return store(event);
    throw new Error(`secret ${event.SecretId} is not rotated by this function`);
  };
}

/** Secrets Manager through the SDK of the Lambda runtime (loaded lazily so that tests never load it). */
export function sdkSigningKeysSecrets(): SigningKeysSecrets {
  const sm = require('@aws-sdk/client-secrets-manager');
  const endpoint = process.env.SECRETS_MANAGER_ENDPOINT;
  const client = new sm.SecretsManagerClient(endpoint ? { endpoint } : {});
  return {
    ...sdkRotationSecrets(),
    async putCurrent(arn, value) {
      await client.send(new sm.PutSecretValueCommand({ SecretId: arn, SecretString: value }));
    },
    async removeStage(arn, stage, versionId) {
      await client.send(
        new sm.UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: stage, RemoveFromVersionId: versionId }),
      );
    },
  };
}

/** AWS Private CA through the SDK, issuing code-signing certificates. */
export const sdkPrivateCa = (): PrivateCa => sdkClientCertificatesCa(signingTemplateArn);

/**
 * The custom-resource entry point (`index.onEvent`). The same function is the rotation function of the secrets:
 * Secrets Manager's events (SecretId, ClientRequestToken, Step) go to `onRotate`.
 */
export const onEvent = (event: SigningKeysEvent | RotationEvent): Promise<SigningKeysResponse | void> =>
  isRotationEvent(event) ? onRotate(event) : createHandler()(event);

/** What Terraform's `aws_lambda_invocation` sends with `lifecycle_scope = "CRUD"` (the input plus `tf`). */
export type SigningKeysInvocation = TerraformInvocation<SigningKeysProperties>;

/** The same handler for Terraform; the result (names, generation, dates: no secret) is stored in the state. */
export function createInvocationHandler(
  deps: SigningKeysDependencies = {},
): (invocation: SigningKeysInvocation) => Promise<SigningKeysResponse> {
  const handle = createHandler(deps);
  return async (invocation) => handle(requestFromInvocation(invocation, () => PHYSICAL_ID));
}

/** The Terraform entry point (`index.onInvocation`); rotation events go to `onRotate`, as with `onEvent`. */
export const onInvocation = (invocation: SigningKeysInvocation | RotationEvent): Promise<SigningKeysResponse | void> =>
  isRotationEvent(invocation) ? onRotate(invocation) : createInvocationHandler()(invocation);

const envNumber = (name: string, fallback: number) =>
  process.env[name] === undefined ? fallback : Number(process.env[name]);

/** The rotation entry point (`index.onRotate`), configured by the construct through the environment. */
export function onRotate(event: RotationEvent): Promise<void> {
  return createRotationHandler(
    {
      caArn: process.env.CA_ARN || undefined,
      signingAlgorithm: process.env.SIGNING_ALGORITHM ?? SECURITY_KEYS_DEFAULTS.caSigningAlgorithm,
      validityDays: envNumber('VALIDITY_DAYS', SECURITY_KEYS_DEFAULTS.validityDays),
      waitSeconds: envNumber('WAIT_SECONDS', SECURITY_KEYS_DEFAULTS.issueWaitSeconds),
      pollMilliseconds: 2_000,
      storeSecretArn: process.env.STORE_SECRET_ARN || undefined,
      keyPairSecretArns: (process.env.KEY_PAIR_SECRET_ARNS ?? '').split(',').filter(Boolean),
      resultKeySecretArn: process.env.RESULT_KEY_SECRET_ARN || undefined,
    },
    sdkSigningKeysSecrets(),
    sdkPrivateCa(),
  )(event);
}
