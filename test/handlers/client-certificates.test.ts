import { X509Certificate as NodeX509, createPrivateKey } from 'node:crypto';
import { createCertificateAuthority, signCertificateRequest, type IssuedCertificate } from '../../lib/dev/pki';
import { CA_ARN, FakePrivateCa } from './fake-private-ca';
import {
  createCertificateRotationHandler,
  checkIssued,
  newKeyAndCsr,
  type RotationEvent,
} from '../../lib/handlers/client-certificates';
import { FakeSecrets } from './fake-secrets';

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery-worker-cert-AbCdEf';

let ca: IssuedCertificate;
let pca: FakePrivateCa;
let secrets: FakeSecrets;
const logs: string[] = [];

beforeAll(async () => {
  ca = await createCertificateAuthority('client-certificates test CA');
});

beforeEach(() => {
  pca = new FakePrivateCa(ca);
  secrets = new FakeSecrets();
  // What the construct creates: a placeholder naming the common name; the first rotation issues the certificate.
  secrets.create(ARN, { common_name: 'celery-worker', password: 'placeholder-not-used' });
  logs.length = 0;
});

const handler = (waitSeconds = 5) =>
  createCertificateRotationHandler(
    { caArn: CA_ARN, signingAlgorithm: 'SHA256WITHECDSA', validityDays: 60, waitSeconds, pollMilliseconds: 1 },
    secrets,
    pca,
    (l) => logs.push(l),
  );

async function rotate(steps: RotationEvent['Step'][] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
  const token = secrets.start(ARN);
  const h = handler();
  for (const Step of steps) await h({ SecretId: ARN, ClientRequestToken: token, Step });
  return token;
}

test('the first rotation issues a client certificate for the common name, chained to the CA, with its unencrypted key', async () => {
  await rotate();
  const s = secrets.current(ARN) as any;
  expect(s.common_name).toBe('celery-worker');
  const cert = new NodeX509(s.certificate);
  expect(cert.subject).toBe('CN=celery-worker');
  expect(cert.verify(new NodeX509(ca.certPem).publicKey)).toBe(true);
  expect(cert.checkPrivateKey(createPrivateKey(s.private_key))).toBe(true);
  expect(s.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  expect(s.certificate_chain).toBe(ca.certPem.trim() + '\n');
  expect(new Date(s.not_after).getTime() - Date.now()).toBeGreaterThan(59 * 24 * 3600 * 1000);
  expect(pca.calls).toEqual(['IssueCertificate SHA256WITHECDSA 60d']);
  for (const line of logs) expect(line).not.toContain('PRIVATE KEY');
  // finishSecret tags the secret with the current certificate's notAfter: the TLS canary reads it, never the key.
  expect(secrets.tags.get(ARN)).toEqual({ 'celery-tls:not-after': s.not_after });
});

test('the tag follows the current certificate; a rotation that never finishes leaves the tag of the last one', async () => {
  await rotate();
  const first = (secrets.current(ARN) as any).not_after;
  await rotate(['createSecret', 'setSecret', 'testSecret']);
  expect(secrets.tags.get(ARN)).toEqual({ 'celery-tls:not-after': first });
  await new Promise((r) => setTimeout(r, 1100));
  await rotate();
  const second = (secrets.current(ARN) as any).not_after;
  expect(secrets.tags.get(ARN)).toEqual({ 'celery-tls:not-after': second });
});

test('each rotation makes a new key and certificate (re-issue before expiry)', async () => {
  await rotate();
  const first = secrets.current(ARN) as any;
  await rotate();
  const second = secrets.current(ARN) as any;
  expect(second.certificate).not.toBe(first.certificate);
  expect(second.private_key).not.toBe(first.private_key);
  expect(pca.issued.size).toBe(2);
});

test('createSecret can be repeated: one certificate per rotation token', async () => {
  const token = secrets.start(ARN);
  const h = handler();
  await h({ SecretId: ARN, ClientRequestToken: token, Step: 'createSecret' });
  await h({ SecretId: ARN, ClientRequestToken: token, Step: 'createSecret' });
  expect(pca.issued.size).toBe(1);
});

test('a certificate for another name is refused and never stored', async () => {
  pca.forceCommonName = 'someone-else';
  const err = (await rotate(['createSecret']).catch((e: Error) => e)) as Error;
  expect(err.message).toContain('the CA issued a certificate for CN=someone-else, expected CN=celery-worker');
  expect(err.message).not.toContain('PRIVATE KEY');
  expect((secrets.current(ARN) as any).certificate).toBeUndefined();
});

test('a CA that never answers fails after waitSeconds with the certificate ARN', async () => {
  pca.pendingPolls = 1_000_000;
  const token = secrets.start(ARN);
  const h = createCertificateRotationHandler(
    { caArn: CA_ARN, signingAlgorithm: 'SHA256WITHECDSA', validityDays: 60, waitSeconds: 0, pollMilliseconds: 1 },
    secrets,
    pca,
    () => undefined,
  );
  await expect(h({ SecretId: ARN, ClientRequestToken: token, Step: 'createSecret' })).rejects.toThrow(
    /did not return .*certificate\/1 within 0 s/,
  );
});

test('testSecret refuses a pending version whose key does not match its certificate', async () => {
  const token = secrets.start(ARN);
  const h = handler();
  await h({ SecretId: ARN, ClientRequestToken: token, Step: 'createSecret' });
  const version = secrets.versions.get(ARN)!.get(token)!;
  const other = await newKeyAndCsr('celery-worker');
  version.value = JSON.stringify({ ...JSON.parse(version.value), private_key: other.keyPem });
  const err = (await h({ SecretId: ARN, ClientRequestToken: token, Step: 'testSecret' }).catch(
    (e: Error) => e,
  )) as Error;
  expect(err.message).toContain('the certificate is not for the key this rotation generated');
  expect(err.message).not.toContain('PRIVATE KEY');
});

test('checkIssued refuses a server certificate and an expired one', async () => {
  const { keyPem, csrPem } = await newKeyAndCsr('celery-worker');
  const server = await signCertificateRequest(ca, csrPem, { usage: 'server', days: 30 });
  await expect(checkIssued(server, keyPem, 'celery-worker')).rejects.toThrow('not for TLS client authentication');
  const client = await signCertificateRequest(ca, csrPem, { usage: 'client', days: 30 });
  await expect(
    checkIssued(client, keyPem, 'celery-worker', new Date(Date.now() + 31 * 24 * 3600 * 1000)),
  ).rejects.toThrow('is not valid now');
});

test('a secret without a usable common_name is refused before anything is issued', async () => {
  secrets.create(ARN, { common_name: 'bad name with spaces' });
  await expect(rotate(['createSecret'])).rejects.toThrow('needs "common_name"');
  expect(pca.calls).toEqual([]);
});
