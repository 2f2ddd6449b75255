// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

// Node's WebCrypto is the standard Crypto interface; the cast bridges the DOM typings @peculiar/x509 declares.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 3600 * 1000;

/** A certificate with its key, both PEM. */
export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** @internal the signing key of a CA */
  readonly keys: CryptoKeyPair;
  readonly cert: x509.X509Certificate;
}

export interface CertificateRequest {
  readonly commonName: string;
  /** DNS names and IP addresses for the subjectAltName. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: 'server' | 'client';
  /** @default now - 1 day */
  readonly notBefore?: Date;
  /** @default notBefore + 398 days */
  readonly notAfter?: Date;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PKCS#8 PEM, unencrypted: py-amqp cannot load an encrypted key. */
async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // positive
  return bytes.toString('hex');
}

/** A self-signed root CA for local development and tests (never for production). */
export async function createCertificateAuthority(
  commonName: string,
  days = 825,
  pathLength = 0,
): Promise<IssuedCertificate> {
  const keys = await keyPair();
  const notBefore = new Date(Date.now() - DAY_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, pathLength, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey), keys };
}

/** A server or client certificate signed by the CA. */
export async function issueCertificate(ca: IssuedCertificate, req: CertificateRequest): Promise<IssuedCertificate> {
  const keys = await keyPair();
  const notBefore = req.notBefore ?? new Date(Date.now() - DAY_MS);
  const names = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(req.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${req.commonName}`,
    issuer: ca.cert.subject,
    notBefore,
    notAfter: req.notAfter ?? new Date(notBefore.getTime() + 398 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    signingKey: ca.keys.privateKey,
    publicKey: keys.publicKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(
        [req.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey), keys };
}

/** Writes `<base>.pem` (0644) and `<base>.key` (0600). */
export function writeCertificate(base: string, issued: IssuedCertificate): { certFile: string; keyFile: string } {
  writeFileSync(`${base}.pem`, issued.certPem, { mode: 0o644 });
  writeFileSync(`${base}.key`, issued.keyPem, { mode: 0o600 });
  return { certFile: `${base}.pem`, keyFile: `${base}.key` };
}

/**
 * Signs a PKCS#10 request with the CA, as AWS Private CA does with the EndEntityClientAuthCertificate template: the
 * request's subject and key, client authentication only. Refuses a request whose signature does not verify.
 */
export async function signCertificateRequest(
  ca: IssuedCertificate,
  csrPem: string,
  opts: { usage: 'client' | 'server'; days: number; commonName?: string },
): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify())) throw new Error('the certificate request signature does not verify');
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: opts.commonName ? `CN=${opts.commonName}` : csr.subject,
    issuer: ca.cert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + opts.days * DAY_MS),
    signingAlgorithm: ALGORITHM,
    signingKey: ca.keys.privateKey,
    publicKey: await csr.publicKey.export(),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(
        [opts.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return cert.toString('pem');
}

/** A CA written by `writeCertificate`, loaded back (its key PKCS#8 PEM, ECDSA P-256). */
export async function loadCertificateAuthority(certPem: string, keyPemText: string): Promise<IssuedCertificate> {
  const cert = new x509.X509Certificate(certPem);
  const der = createPrivateKey(keyPemText).export({ format: 'der', type: 'pkcs8' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign']);
  const publicKey = await cert.publicKey.export(ALGORITHM, ['verify']);
  return { cert, certPem, keyPem: keyPemText, keys: { privateKey, publicKey } as CryptoKeyPair };
}

/** A subordinate CA signed by `parent` (which needs a path length of at least 1), as AWS Private CA makes them. */
export async function createSubordinateCertificateAuthority(
  parent: IssuedCertificate,
  commonName: string,
  days = 365,
): Promise<IssuedCertificate> {
  const keys = await keyPair();
  const notBefore = new Date(Date.now() - DAY_MS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${commonName}`,
    issuer: parent.cert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * DAY_MS),
    signingAlgorithm: ALGORITHM,
    signingKey: parent.keys.privateKey,
    publicKey: keys.publicKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey),
    ],
  });
  return { cert, certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey), keys };
}
