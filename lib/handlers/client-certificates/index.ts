/**
 * Secrets Manager rotation function that issues TLS client certificates from an AWS Private CA: each rotation makes a
 * new ECDSA P-256 key and CSR (common name = the RabbitMQ user the certificate logs in as), has the CA sign it with the
 * client-authentication template, checks the result and stores `{common_name, certificate, certificate_chain,
 * private_key, not_after}` as the new version. The first rotation, when the schedule is created, issues the first
 * certificate; later ones re-issue before expiry. The private key never leaves the function and the secret.
 * @see https://docs.aws.amazon.com/privateca/latest/APIReference/API_IssueCertificate.html
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { DEFAULTS } from '../../core/defaults';
import { clientAuthTemplateArn } from '../../core/rabbitmq-mtls';
import { CURRENT, PENDING, rotationHandler, sdkRotationSecrets } from '../shared/rotation';
import type { RotationEvent, RotationSecrets } from '../shared/rotation';
import { CANARY_WIRE } from '../../core/canary';

export type { RotationEvent, RotationSecrets } from '../shared/rotation';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

/** The AWS Private CA calls the function needs (the SDK by default; tests sign with a local CA). */
export interface PrivateCa {
  /** IssueCertificate: returns the new certificate's ARN. */
  issue(args: {
    caArn: string;
    csrPem: string;
    validityDays: number;
    signingAlgorithm: string;
    idempotencyToken: string;
  }): Promise<string>;
  /** GetCertificate: undefined while the CA is still signing. */
  get(args: { caArn: string; certificateArn: string }): Promise<{ certificate: string; chain: string } | undefined>;
}

export interface CertificateRotationConfig {
  readonly caArn: string;
  /** The CA's signing algorithm (its key family): SHA256WITHRSA for an RSA CA, SHA256WITHECDSA for an EC CA. */
  readonly signingAlgorithm: string;
  readonly validityDays: number;
  readonly waitSeconds: number;
  readonly pollMilliseconds: number;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

function commonNameOf(
  arn: string,
  value: string | undefined,
  what: string,
): { cn: string; document: Record<string, unknown> } {
  if (value === undefined) throw new Error(`secret ${arn} has no ${what} version`);
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(value);
  } catch {
    throw new Error(`secret ${arn} (${what}) is not JSON with "common_name"`);
  }
  const cn = document.common_name;
  if (typeof cn !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(cn))
    throw new Error(`secret ${arn} (${what}) needs "common_name": letters, digits, "." "_" "-", at most 64`);
  return { cn, document };
}

/** A new key and a CSR for CN=<cn>; the key as unencrypted PKCS#8 PEM (py-amqp cannot load encrypted keys). */
export async function newKeyAndCsr(cn: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
    signingAlgorithm: ALGORITHM,
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
  return { keyPem, csrPem: csr.toString('pem') };
}

/** Checks an issued certificate against what was asked: the name, client authentication, the key, the validity. */
export async function checkIssued(
  certPem: string,
  keyPem: string,
  cn: string,
  now = new Date(),
): Promise<x509.X509Certificate> {
  const cert = new x509.X509Certificate(certPem);
  const got = cert.subjectName.getField('CN')[0];
  if (got !== cn) throw new Error(`the CA issued a certificate for CN=${got}, expected CN=${cn}`);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku || !eku.usages.includes(x509.ExtendedKeyUsage.clientAuth))
    throw new Error('the certificate is not for TLS client authentication (extended key usage clientAuth)');
  if (cert.notBefore > now || cert.notAfter <= now)
    throw new Error(
      `the certificate is not valid now (${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`,
    );
  const certKey = createPrivateKey(keyPem);
  const publicFromKey = createPublicKey(certKey).export({ format: 'der', type: 'spki' });
  if (!Buffer.from(cert.publicKey.rawData).equals(publicFromKey))
    throw new Error('the certificate is not for the key this rotation generated');
  return cert;
}

export function createCertificateRotationHandler(
  config: CertificateRotationConfig,
  secrets: RotationSecrets,
  ca: PrivateCa,
  log: (line: string) => void = console.log,
): (event: RotationEvent) => Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  return rotationHandler(
    secrets,
    {
      async createSecret({ arn, token, known }) {
        if ((await secrets.get(arn, { stage: PENDING, versionId: token })) !== undefined) {
          log(`createSecret: ${PENDING} exists`);
          return;
        }
        const { cn, document } = commonNameOf(arn, await secrets.get(arn, { stage: CURRENT }), CURRENT);
        const { keyPem, csrPem } = await newKeyAndCsr(cn);
        known.push(keyPem);
        // The rotation token makes a retried IssueCertificate return the same certificate (at most 36 characters).
        const certificateArn = await ca.issue({
          caArn: config.caArn,
          csrPem,
          validityDays: config.validityDays,
          signingAlgorithm: config.signingAlgorithm,
          idempotencyToken: token.replace(/-/g, '').slice(0, 36),
        });
        const deadline = Date.now() + config.waitSeconds * 1000;
        let issued: { certificate: string; chain: string } | undefined;
        while (!(issued = await ca.get({ caArn: config.caArn, certificateArn }))) {
          if (Date.now() >= deadline)
            throw new Error(`AWS Private CA did not return ${certificateArn} within ${config.waitSeconds} s`);
          await sleep(config.pollMilliseconds);
        }
        const cert = await checkIssued(issued.certificate, keyPem, cn);
        await secrets.putPending(
          arn,
          token,
          JSON.stringify({
            ...document,
            common_name: cn,
            certificate: issued.certificate.trim() + '\n',
            certificate_chain: issued.chain.trim() ? issued.chain.trim() + '\n' : '',
            private_key: keyPem,
            certificate_arn: certificateArn,
            not_after: cert.notAfter.toISOString(),
          }),
        );
        log(`createSecret: issued ${certificateArn} for CN=${cn}, valid until ${cert.notAfter.toISOString()}`);
      },
      async setSecret() {
        // Nothing to change on a server: the broker trusts the CA, not individual certificates.
        log('setSecret: nothing to set (the broker trusts the CA)');
      },
      async testSecret({ arn, token, known }) {
        const { cn, document } = commonNameOf(
          arn,
          await secrets.get(arn, { stage: PENDING, versionId: token }),
          `${PENDING} ${token}`,
        );
        known.push(String(document.private_key ?? ''));
        await checkIssued(String(document.certificate ?? ''), String(document.private_key ?? ''), cn);
        log(`testSecret: the pending certificate for CN=${cn} matches its key and is valid`);
      },
      async finished({ arn, token, known }) {
        // The current certificate's expiry as a tag: the TLS canary reads it with DescribeSecret, never the key.
        const { cn, document } = commonNameOf(
          arn,
          await secrets.get(arn, { stage: CURRENT, versionId: token }),
          `${CURRENT} ${token}`,
        );
        known.push(String(document.private_key ?? ''));
        const notAfter = String(document.not_after ?? '');
        if (Number.isNaN(Date.parse(notAfter))) throw new Error(`the current certificate of CN=${cn} has no not_after`);
        await secrets.tag(arn, CANARY_WIRE.notAfterTag, notAfter);
        log(`finishSecret: tagged ${CANARY_WIRE.notAfterTag}=${notAfter}`);
      },
    },
    log,
  );
}

/**
 * AWS Private CA through the SDK of the Lambda runtime (loaded lazily so that tests never load it), issuing with the
 * template `templateArn` gives for the CA's partition (aws, aws-cn, aws-us-gov): client authentication by default.
 */
export function sdkPrivateCa(templateArn: (partition: string) => string = clientAuthTemplateArn): PrivateCa {
  const pca = require('@aws-sdk/client-acm-pca');
  const client = new pca.ACMPCAClient({});
  return {
    async issue({ caArn, csrPem, validityDays, signingAlgorithm, idempotencyToken }) {
      const out = await client.send(
        new pca.IssueCertificateCommand({
          CertificateAuthorityArn: caArn,
          Csr: Buffer.from(csrPem),
          SigningAlgorithm: signingAlgorithm,
          // The partition of the CA's own ARN.
          TemplateArn: templateArn(caArn.split(':')[1]),
          Validity: { Type: 'DAYS', Value: validityDays },
          IdempotencyToken: idempotencyToken,
        }),
      );
      return out.CertificateArn;
    },
    async get({ caArn, certificateArn }) {
      try {
        const out = await client.send(
          new pca.GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: certificateArn }),
        );
        return { certificate: out.Certificate, chain: out.CertificateChain ?? '' };
      } catch (err) {
        if ((err as { name?: string }).name === 'RequestInProgressException') return undefined;
        throw err;
      }
    },
  };
}

const envNumber = (name: string, fallback: number) =>
  process.env[name] === undefined ? fallback : Number(process.env[name]);

/** The entry point (`index.onRotate`), configured by the construct through the environment. */
export const onRotate = async (event: RotationEvent): Promise<void> =>
  createCertificateRotationHandler(
    {
      caArn: process.env.CA_ARN ?? '',
      signingAlgorithm: process.env.SIGNING_ALGORITHM ?? DEFAULTS.rabbitmq.clientCertificates.caSigningAlgorithm,
      validityDays: envNumber('VALIDITY_DAYS', DEFAULTS.rabbitmq.clientCertificates.validityDays),
      waitSeconds: envNumber('WAIT_SECONDS', DEFAULTS.rabbitmq.clientCertificates.issueWaitSeconds),
      pollMilliseconds: 2_000,
    },
    sdkRotationSecrets(),
    sdkPrivateCa(),
  )(event);
