import { X509Certificate as NodeX509, createPrivateKey, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handlerAssetDir } from '../../lib/core/assets';
import { CeleryConfig } from '../../lib/core/celery/config';
import { securityOptionsFor } from '../../lib/core/security-keys';
import { createCertificateAuthority, type IssuedCertificate } from '../../lib/dev/pki';
import {
  buildStore,
  createHandler,
  createInvocationHandler,
  createRotationHandler,
  type SigningKeysProperties,
  type SigningKeysSecrets,
  type RotationEvent,
} from '../../lib/handlers/signing-keys';
import { CA_ARN, FakePrivateCa } from './fake-private-ca';
import { FakeSecrets } from './fake-secrets';

jest.setTimeout(60_000);

const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}-AbCdEf`;
const PRODUCER = ARN('producer-signing');
const WORKER = ARN('worker-signing');
const STORE = ARN('signing-store');
const RESULT_KEY = ARN('result-key');

/** FakeSecrets with the two calls the signing keys need beyond rotation's, as Secrets Manager does them. */
class Secrets extends FakeSecrets implements SigningKeysSecrets {
  async putCurrent(arn: string, value: string) {
    const versions = this.versions.get(arn)!;
    for (const v of versions.values()) {
      v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
      if (v.stages.includes('AWSCURRENT')) v.stages = [...v.stages.filter((s) => s !== 'AWSCURRENT'), 'AWSPREVIOUS'];
    }
    versions.set(randomUUID(), { value, stages: ['AWSCURRENT'] });
  }
  async removeStage(arn: string, stage: string, versionId: string) {
    const v = this.versions.get(arn)!.get(versionId)!;
    v.stages = v.stages.filter((s) => s !== stage);
  }
  doc(arn: string, stage = 'AWSCURRENT'): any {
    const v = [...this.versions.get(arn)!.values()].find((x) => x.stages.includes(stage));
    return v ? JSON.parse(v.value) : undefined;
  }
  labelled(arn: string): string[] {
    return [...this.versions.get(arn)!.values()].filter((v) => v.stages.length).map((v) => v.value);
  }
}

let ca: IssuedCertificate;
let secrets: Secrets;
let pca: FakePrivateCa;
const logs: string[] = [];
const log = (l: string) => logs.push(l);

beforeAll(async () => {
  ca = await createCertificateAuthority('signing-keys test CA');
});

beforeEach(() => {
  secrets = new Secrets();
  pca = new FakePrivateCa(ca);
  pca.pendingPolls = 0;
  // What the construct creates: placeholders naming the common name, the store without certificates.
  secrets.create(PRODUCER, { common_name: 'celery-producer-signing', role: 'producer', placeholder: 'x' });
  secrets.create(WORKER, { common_name: 'celery-worker-signing', role: 'worker', placeholder: 'x' });
  secrets.create(STORE, { certificates: '', placeholder: 'x' });
  secrets.create(RESULT_KEY, { key: 'A'.repeat(64) });
  logs.length = 0;
});

const props = (over: Partial<SigningKeysProperties> = {}): SigningKeysProperties => ({
  StoreSecretArn: STORE,
  Roles: [
    { Role: 'producer', CommonName: 'celery-producer-signing', SecretArn: PRODUCER },
    { Role: 'worker', CommonName: 'celery-worker-signing', SecretArn: WORKER },
  ],
  ValidityDays: '90',
  KeyGeneration: '1',
  ...over,
});

const handler = () => createHandler({ secrets, ca: pca, log, pollMilliseconds: 1, waitSeconds: 5 });
const create = (p = props()) => handler()({ RequestType: 'Create', ResourceProperties: p });
const update = (p: SigningKeysProperties, old = props()) =>
  handler()({ RequestType: 'Update', ResourceProperties: p, OldResourceProperties: old, PhysicalResourceId: 'x' });

const pems = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];

const rotation = (config: { caArn?: string } = {}) =>
  createRotationHandler(
    {
      caArn: config.caArn,
      signingAlgorithm: 'SHA256WITHECDSA',
      validityDays: 90,
      waitSeconds: 5,
      pollMilliseconds: 1,
      storeSecretArn: STORE,
      keyPairSecretArns: [PRODUCER, WORKER],
      resultKeySecretArn: RESULT_KEY,
    },
    secrets,
    pca,
    log,
  );

async function rotate(
  arn: string,
  steps: RotationEvent['Step'][] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'],
) {
  const token = secrets.start(arn);
  const h = rotation();
  for (const Step of steps) await h({ SecretId: arn, ClientRequestToken: token, Step });
  return token;
}

/** Signs with one pair and verifies with the store through Celery's own SecureSerializer (Debian's Celery 5.2.6). */
function celeryVerifies(signer: { certificate: string; private_key: string }, store: string) {
  const dir = mkdtempSync(join(tmpdir(), 'celery-tls-signing-'));
  writeFileSync(join(dir, 'key.pem'), signer.private_key, { mode: 0o600 });
  writeFileSync(join(dir, 'cert.pem'), signer.certificate);
  mkdirSync(join(dir, 'store'));
  pems(store).forEach((pem, i) => writeFileSync(join(dir, 'store', `${i}.pem`), pem));
  const script = [
    'import sys',
    'from celery.security.certificate import Certificate, FSCertStore',
    'from celery.security.key import PrivateKey',
    'from celery.security.serialization import SecureSerializer',
    'd = sys.argv[1]',
    's = SecureSerializer(PrivateKey(open(d + "/key.pem").read()), Certificate(open(d + "/cert.pem").read()), FSCertStore(d + "/store"), digest="sha256")',
    'signed = s.serialize({"task": "add", "args": [1, 2]})',
    'assert s.deserialize(signed) == {"task": "add", "args": [1, 2]}',
    'print("verified")',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  return { ok: r.status === 0 && r.stdout.trim() === 'verified', stderr: r.stderr };
}

test('Create: each role gets its own RSA-3072 key and a self-signed certificate, and the store holds both', async () => {
  const res = await create();
  const producer = secrets.doc(PRODUCER);
  const worker = secrets.doc(WORKER);
  for (const [doc, cn] of [
    [producer, 'celery-producer-signing'],
    [worker, 'celery-worker-signing'],
  ]) {
    const cert = new NodeX509(doc.certificate);
    const key = createPrivateKey(doc.private_key);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(cert.subject).toBe(`CN=${cn}`);
    expect(cert.issuer).toBe(`CN=${cn}`);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(doc.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(doc.issuer).toBe('self-signed');
  }
  expect(producer.private_key).not.toBe(worker.private_key);
  const store = secrets.doc(STORE);
  expect(pems(store.certificates)).toEqual([producer.certificate, worker.certificate]);
  expect(res.Data.Roles).toBe('producer,worker');
  expect(JSON.stringify(res)).not.toContain('PRIVATE KEY');
  for (const line of logs) expect(line).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
});

test("Celery's own serializer signs with each generated pair and verifies against the store", async () => {
  await create();
  const store = secrets.doc(STORE).certificates;
  for (const arn of [PRODUCER, WORKER])
    expect(celeryVerifies(secrets.doc(arn), store)).toEqual({ ok: true, stderr: '' });
  // A pair outside the store is refused (the check can fail).
  const outsider = secrets.doc(PRODUCER);
  await update(props({ KeyGeneration: '2' }));
  const onlyNew = pems(secrets.doc(STORE).certificates).filter(
    (p) => p !== outsider.certificate && p !== secrets.doc(WORKER, 'AWSPREVIOUS').certificate,
  );
  expect(celeryVerifies(outsider, onlyNew.join('')).ok).toBe(false);
});

test('with a Private CA the certificates are issued by it (the CA ARN, the signing algorithm, the validity)', async () => {
  await create(props({ CaArn: CA_ARN, SigningAlgorithm: 'SHA256WITHECDSA' }));
  const doc = secrets.doc(WORKER);
  const cert = new NodeX509(doc.certificate);
  expect(cert.verify(new NodeX509(ca.certPem).publicKey)).toBe(true);
  expect(cert.subject).toBe('CN=celery-worker-signing');
  expect(doc.issuer).toBe(CA_ARN);
  expect(pca.calls).toEqual(['IssueCertificate SHA256WITHECDSA 90d', 'IssueCertificate SHA256WITHECDSA 90d']);
  expect(celeryVerifies(doc, secrets.doc(STORE).certificates).ok).toBe(true);
});

test('Create again (a retry) and an Update with the same generation keep the keys', async () => {
  await create();
  const before = secrets.doc(WORKER).private_key;
  await create();
  await update(props({ ValidityDays: '90' }));
  expect(secrets.doc(WORKER).private_key).toBe(before);
  expect(pems(secrets.doc(STORE).certificates)).toHaveLength(2);
});

test('a new key generation replaces every key; the store keeps the replaced certificates beside the new ones', async () => {
  await create();
  const old = [secrets.doc(PRODUCER), secrets.doc(WORKER)];
  await update(props({ KeyGeneration: '2' }));
  const now = [secrets.doc(PRODUCER), secrets.doc(WORKER)];
  expect(now[0].private_key).not.toBe(old[0].private_key);
  expect(now[0].generation).toBe(2);
  const store = secrets.doc(STORE).certificates;
  expect(pems(store).sort()).toEqual([...old, ...now].map((d) => d.certificate).sort());
  // A message signed with a replaced key just before still verifies, and one signed with the new key.
  expect(celeryVerifies(old[0], store).ok).toBe(true);
  expect(celeryVerifies(now[1], store).ok).toBe(true);
});

test('moving to a Private CA replaces the self-signed keys', async () => {
  await create();
  await update(props({ CaArn: CA_ARN }));
  expect(secrets.doc(PRODUCER).issuer).toBe(CA_ARN);
  expect(pems(secrets.doc(STORE).certificates)).toHaveLength(4);
});

test('rotation renews a key pair: the store holds the new certificate before it is current, and keeps the old one', async () => {
  await create();
  const first = secrets.doc(PRODUCER);
  const token = secrets.start(PRODUCER);
  const h = rotation();
  await h({ SecretId: PRODUCER, ClientRequestToken: token, Step: 'createSecret' });
  await h({ SecretId: PRODUCER, ClientRequestToken: token, Step: 'setSecret' });
  const pending = secrets.doc(PRODUCER, 'AWSPENDING');
  expect(secrets.doc(PRODUCER).private_key).toBe(first.private_key);
  expect(pems(secrets.doc(STORE).certificates)).toContain(pending.certificate);
  await h({ SecretId: PRODUCER, ClientRequestToken: token, Step: 'testSecret' });
  await h({ SecretId: PRODUCER, ClientRequestToken: token, Step: 'finishSecret' });
  expect(secrets.doc(PRODUCER).certificate).toBe(pending.certificate);
  expect(createPrivateKey(pending.private_key).asymmetricKeyDetails?.modulusLength).toBe(3072);
  const store = secrets.doc(STORE).certificates;
  expect(pems(store)).toEqual([pending.certificate, first.certificate, secrets.doc(WORKER).certificate]);
  expect(celeryVerifies(first, store).ok).toBe(true);
  // The next renewal drops the one before the previous: never an old certificate left to expire in the store.
  await rotate(PRODUCER);
  expect(pems(secrets.doc(STORE).certificates)).not.toContain(first.certificate);
  expect(pems(secrets.doc(STORE).certificates)).toHaveLength(3);
  for (const line of logs) expect(line).not.toMatch(/PRIVATE KEY/);
});

test('testSecret writes the store again when another rotation overwrote it without the pending certificate', async () => {
  await create();
  const token = secrets.start(WORKER);
  const h = rotation();
  await h({ SecretId: WORKER, ClientRequestToken: token, Step: 'createSecret' });
  await h({ SecretId: WORKER, ClientRequestToken: token, Step: 'setSecret' });
  await secrets.putCurrent(STORE, JSON.stringify({ certificates: secrets.doc(PRODUCER).certificate }));
  await h({ SecretId: WORKER, ClientRequestToken: token, Step: 'testSecret' });
  expect(pems(secrets.doc(STORE).certificates)).toContain(secrets.doc(WORKER, 'AWSPENDING').certificate);
});

test('the store leaves out a certificate that expires within a day (the settings refuse expired signers)', async () => {
  await create();
  const later = new Date(Date.now() + 89.5 * 24 * 3600 * 1000);
  expect((await buildStore(secrets, [PRODUCER, WORKER], [], later)).signers).toEqual([]);
  expect((await buildStore(secrets, [PRODUCER, WORKER], [])).signers.map((s) => s.common_name)).toEqual([
    'celery-producer-signing',
    'celery-worker-signing',
  ]);
});

test("the store's own rotation rebuilds it from the key pairs, leaving out what no pair holds", async () => {
  await create();
  await secrets.putCurrent(STORE, JSON.stringify({ certificates: secrets.doc(PRODUCER).certificate + 'stale' }));
  await rotate(STORE);
  expect(pems(secrets.doc(STORE).certificates)).toEqual([
    secrets.doc(PRODUCER).certificate,
    secrets.doc(WORKER).certificate,
  ]);
  expect(secrets.doc(STORE).signers.map((s: { common_name: string }) => s.common_name)).toEqual([
    'celery-producer-signing',
    'celery-worker-signing',
  ]);
});

test('the result key rotates to 64 new letters and digits; AWSPREVIOUS holds the old value (the ring)', async () => {
  const before = secrets.doc(RESULT_KEY).key;
  await rotate(RESULT_KEY);
  const after = secrets.doc(RESULT_KEY).key;
  expect(after).toMatch(/^[A-Za-z0-9]{64}$/);
  expect(after).not.toBe(before);
  expect(secrets.doc(RESULT_KEY, 'AWSPREVIOUS').key).toBe(before);
  for (const line of logs) expect(line).not.toContain(after);
});

test('a secret the function does not own is refused', async () => {
  await expect(rotation()({ SecretId: ARN('other'), ClientRequestToken: 't', Step: 'createSecret' })).rejects.toThrow(
    'is not rotated by this function',
  );
});

test('Delete leaves no key and no certificate in any labelled version of the secrets it wrote', async () => {
  await create();
  await update(props({ KeyGeneration: '2' }));
  await handler()({
    RequestType: 'Delete',
    ResourceProperties: props({ KeyGeneration: '2' }),
    PhysicalResourceId: 'x',
  });
  for (const arn of [PRODUCER, WORKER, STORE])
    for (const value of secrets.labelled(arn)) expect(value).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  expect(secrets.doc(PRODUCER)).toEqual({ role: 'producer', common_name: 'celery-producer-signing', deleted: true });
});

test('errors carry no key: a CA that names another subject fails without the generated key', async () => {
  pca.forceCommonName = 'someone-else';
  const err = (await create(props({ CaArn: CA_ARN })).catch((e: Error) => e)) as Error;
  expect(err.message).toContain('the certificate names CN=someone-else, expected CN=celery-producer-signing');
  expect(err.message).not.toContain('PRIVATE KEY');
  expect(secrets.doc(PRODUCER).certificate).toBeUndefined();
});

test('Terraform: create, update (new generation) and delete through aws_lambda_invocation', async () => {
  const invoke = createInvocationHandler({ secrets, ca: pca, log, pollMilliseconds: 1 });
  const input = props();
  const res = await invoke({ ...input, tf: { action: 'create', prev_input: null } });
  expect(res.PhysicalResourceId).toBe('celery-signing-keys');
  const first = secrets.doc(WORKER).private_key;
  await invoke({ ...props({ KeyGeneration: 2 }), tf: { action: 'update', prev_input: input } });
  expect(secrets.doc(WORKER).private_key).not.toBe(first);
  await invoke({ ...props({ KeyGeneration: 2 }), tf: { action: 'delete' } });
  expect(secrets.doc(WORKER).deleted).toBe(true);
  await expect(invoke({ ...input, tf: { action: 'read' } })).rejects.toThrow('lifecycle_scope = "CRUD"');
});

test('the bundle answers CloudFormation (onEvent), Terraform (onInvocation) and Secrets Manager (onRotate)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exported = require(join(handlerAssetDir('signing-keys'), 'index.js'));
  expect([typeof exported.onEvent, typeof exported.onInvocation, typeof exported.onRotate]).toEqual([
    'function',
    'function',
    'function',
  ]);
});

describe('the rendered settings read what the function wrote (by ARN, through a stand-in boto3)', () => {
  const FIXTURES = join(__dirname, '..', 'fixtures');
  /** The secrets as the stand-in boto3 serves them: {arn: {stage: value}}. */
  const served = () => {
    const out: Record<string, Record<string, string>> = {};
    for (const [arn, versions] of secrets.versions)
      for (const v of versions.values()) for (const s of v.stages) (out[arn] ??= {})[s] = v.value;
    return out;
  };
  const settings = (role: 'producer' | 'worker', decrypt?: string) => {
    const config = new CeleryConfig({
      broker: { scheme: 'amqps', host: 'b-1.mq.eu-west-1.on.aws', port: 5671, username: 'w', engine: 'rabbitmq' },
      resultBackend: { scheme: 'rediss', host: 'master.c.euw1.cache.amazonaws.com', port: 6379, engine: 'valkey' },
      security: securityOptionsFor({
        keyPairSecretArn: role === 'producer' ? PRODUCER : WORKER,
        storeSecretArn: STORE,
        resultKeySecretArn: RESULT_KEY,
      }),
    });
    const dir = mkdtempSync(join(tmpdir(), 'celery-tls-keys-settings-'));
    writeFileSync(join(dir, 'rendered_settings.py'), config.toPythonModule('t'));
    writeFileSync(join(dir, 'secrets.json'), JSON.stringify(served()));
    writeFileSync(join(dir, 'calls.jsonl'), '');
    const r = spawnSync(
      '/usr/bin/python3',
      [join(FIXTURES, 'inspect_security.py'), dir, 'rendered_settings', 'module'],
      {
        env: {
          PATH: '/usr/bin:/bin',
          LANG: 'C.UTF-8',
          PYTHONDONTWRITEBYTECODE: '1',
          CELERY_TLS_BROKER_PASSWORD: 'b',
          CELERY_TLS_RESULT_BACKEND_PASSWORD: 'r',
          PYTHONPATH: join(FIXTURES, 'security-stub-boto3'),
          STUB_SECRETS_FILE: join(dir, 'secrets.json'),
          STUB_CALLS_FILE: join(dir, 'calls.jsonl'),
          ...(decrypt ? { INSPECT_DECRYPT: decrypt } : {}),
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  };

  test('each role signs with its own key and verifies with the store; results sealed before a rotation read after it', async () => {
    await create();
    await rotate(RESULT_KEY);
    for (const role of ['producer', 'worker'] as const) {
      const out = settings(role);
      expect(out.error).toBeUndefined();
      expect(out.verified).toEqual([['argument'], {}, {}]);
      expect(out.security_key.content).toBe(secrets.doc(role === 'producer' ? PRODUCER : WORKER).private_key);
      expect(out.security_cert_store.files).toEqual(['signer-000.pem', 'signer-001.pem']);
    }
    const sealed = settings('worker').sealed;
    expect(typeof sealed).toBe('string');
    await rotate(RESULT_KEY);
    expect(settings('producer', sealed).decrypted).toMatchObject({ result: { value: 'result-text' } });
    // Two rotations later the key is out of the ring (AWSCURRENT and AWSPREVIOUS only): the check can fail.
    await rotate(RESULT_KEY);
    expect(settings('producer', sealed).decrypt_error).toMatch(/not in the key ring/);
  });
});
