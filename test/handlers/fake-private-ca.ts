import { signCertificateRequest, type IssuedCertificate } from '../../lib/dev/pki';
import type { PrivateCa } from '../../lib/handlers/client-certificates';

export const CA_ARN =
  'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

/** AWS Private CA as the function sees it, signing with a local CA: pending for a while, idempotent by token. */
export class FakePrivateCa implements PrivateCa {
  issued = new Map<string, string>();
  calls: string[] = [];
  pendingPolls = 1;
  /** Sign for another name than requested (a misconfigured template). */
  forceCommonName?: string;
  private byToken = new Map<string, string>();
  private polls = new Map<string, number>();

  constructor(private readonly ca: IssuedCertificate) {}

  async issue(args: {
    caArn: string;
    csrPem: string;
    validityDays: number;
    signingAlgorithm: string;
    idempotencyToken: string;
  }) {
    this.calls.push(`IssueCertificate ${args.signingAlgorithm} ${args.validityDays}d`);
    if (args.caArn !== CA_ARN) throw new Error('ResourceNotFoundException');
    const known = this.byToken.get(args.idempotencyToken);
    if (known) return known;
    const arn = `${CA_ARN}/certificate/${this.issued.size + 1}`;
    this.issued.set(
      arn,
      await signCertificateRequest(this.ca, args.csrPem, {
        usage: 'client',
        days: args.validityDays,
        commonName: this.forceCommonName,
      }),
    );
    this.byToken.set(args.idempotencyToken, arn);
    this.polls.set(arn, this.pendingPolls);
    return arn;
  }

  async get(args: { caArn: string; certificateArn: string }) {
    const left = this.polls.get(args.certificateArn) ?? 0;
    if (left > 0) {
      this.polls.set(args.certificateArn, left - 1);
      return undefined; // RequestInProgressException
    }
    return { certificate: this.issued.get(args.certificateArn)!, chain: this.ca.certPem };
  }
}
