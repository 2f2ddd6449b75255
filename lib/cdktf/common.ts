import { Construct } from 'constructs';
import { DEFAULTS } from '../core/defaults';
import { ResolveContext, ValidationIssue, ValidationResult, settle } from '../core/errors';
import { IamStatementModel, logsKeyPolicyStatement } from '../core/iam';
import type { KeyServiceStatement } from '../core/iam';
import { GeneratedSecretShape } from '../core/secrets';
import { SubnetFact } from '../core/subnets';
import { Annotations, CloudwatchLogGroup, DataAwsCallerIdentity, DataAwsPartition, DataAwsRegion } from './provider';
import { DataAwsSecretsmanagerRandomPassword, DataAwsSecretsmanagerSecretVersion, Fn, KmsKey } from './provider';
import { SecretsmanagerSecret, SecretsmanagerSecretVersion, TerraformStack, Token } from './provider';

/** Tells the core which values are cdktf tokens. */
export const CDKTF_CONTEXT: ResolveContext = { isUnresolved: (value: unknown) => Token.isUnresolved(value) };

/** Throws the core's errors at synth time and records its warnings as construct annotations. */
export function applyIssues<T>(scope: Construct, result: ValidationResult<T>): T {
  return settle(scope.node.path, result, (warnings) => warn(scope, warnings));
}

/** Records the core's warnings on a construct (`[celery-tls-constructs:<code>] message`). */
export function warn(scope: Construct, warnings: readonly ValidationIssue[]): void {
  for (const w of warnings) Annotations.of(scope).addWarning(`[celery-tls-constructs:${w.code}] ${w.message}`);
}

/** Where a cache or broker is placed: no data sources, so that synth stays offline and the AZ checks see literals. */
export interface PlacementProps {
  /** The VPC of the security groups. */
  readonly vpcId: string;
  /**
   * Private or isolated subnets with their Availability Zones; one per AZ is used. Mark a public subnet with
   * `type: "Public"` and it is refused.
   */
  readonly subnets: readonly SubnetFact[];
}

/** Account, partition and region of the stack, read by Terraform at plan time (one set of data sources per stack). */
export interface AwsFacts {
  /** The account id (`aws_caller_identity`), a token resolved at plan time. */
  readonly account: string;
  /** The partition, e.g. "aws" (`aws_partition`), a token resolved at plan time. */
  readonly partition: string;
  /** The region name (`aws_region`), a token resolved at plan time. */
  readonly region: string;
}

const FACTS_ID = 'CeleryTlsAwsFacts';

class AwsFactsSources extends Construct implements AwsFacts {
  public readonly account: string;
  public readonly partition: string;
  public readonly region: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.account = new DataAwsCallerIdentity(this, 'CallerIdentity').accountId;
    this.partition = new DataAwsPartition(this, 'Partition').partition;
    this.region = new DataAwsRegion(this, 'Region').region;
  }
}

export function awsFacts(scope: Construct): AwsFacts {
  const stack = TerraformStack.of(scope);
  return (stack.node.tryFindChild(FACTS_ID) as AwsFactsSources | undefined) ?? new AwsFactsSources(stack, FACTS_ID);
}

/** Renders neutral IAM statements as a JSON policy document (for `aws_iam_role_policy.policy`). */
export function policyDocument(statements: readonly IamStatementModel[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: statements.map((s) => ({
      Effect: s.effect,
      Action: [...s.actions],
      Resource: [...s.resources],
      ...(s.conditions ? { Condition: s.conditions } : {}),
    })),
  });
}

/**
 * A customer-managed key with rotation and an explicit policy: the account (so that IAM policies apply, as in the
 * default key policy) and CloudWatch Logs of this account and region. Terraform refuses to destroy it
 * (`prevent_destroy`; the CDK side retains keys): deleting it makes the cache, its snapshots and the secrets unreadable.
 */
export function createKey(
  scope: Construct,
  id: string,
  description: string,
  services: readonly KeyServiceStatement[] = [],
): KmsKey {
  const facts = awsFacts(scope);
  const logs = logsKeyPolicyStatement({ region: facts.region, account: facts.account, partition: facts.partition });
  return new KmsKey(scope, id, {
    description,
    enableKeyRotation: DEFAULTS.kms.enableKeyRotation,
    deletionWindowInDays: DEFAULTS.terraform.kmsDeletionWindowDays,
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EnableIamPolicies',
          Effect: 'Allow',
          Principal: { AWS: `arn:${facts.partition}:iam::${facts.account}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          Sid: logs.sid,
          Effect: 'Allow',
          Principal: { Service: logs.principalService },
          Action: [...logs.actions],
          Resource: '*',
          Condition: logs.conditions,
        },
        ...services.map((x) => ({
          Sid: x.sid,
          Effect: 'Allow',
          Principal: { Service: x.principalService },
          Action: [...x.actions],
          Resource: '*',
          Condition: x.conditions,
        })),
      ],
    }),
    lifecycle: { preventDestroy: DEFAULTS.terraform.keyPreventDestroy },
  });
}

/** A log group encrypted with the key, kept on destroy (`skip_destroy`), with the default retention. */
export function createLogGroup(scope: Construct, id: string, keyArn: string, name?: string): CloudwatchLogGroup {
  return new CloudwatchLogGroup(scope, id, {
    name,
    kmsKeyId: keyArn,
    retentionInDays: DEFAULTS.logs.retentionDays,
    skipDestroy: true,
  });
}

/** A Secrets Manager secret whose JSON field holds a password, read by Terraform at apply time. */
export interface SecretSource {
  /** ARN of the secret. */
  readonly secretArn: string;
  /** Key that encrypts the secret, when known (for `kms:Decrypt` statements). */
  readonly encryptionKeyArn?: string;
  /** JSON field that holds the password or token. */
  readonly field: string;
  /**
   * The field's value as a Terraform expression (`aws_secretsmanager_secret_version` data source): resolved at
   * apply time, so it is never in cdk.tf.json; it is in the Terraform state.
   */
  readonly value: string;
}

function readField(scope: Construct, secretId: string, field: string, versionId?: string): string {
  const current = new DataAwsSecretsmanagerSecretVersion(scope, 'Current', { secretId, versionId });
  return Token.asString(Fn.lookup(Fn.jsondecode(current.secretString), field));
}

/**
 * A secret generated at apply time: `aws_secretsmanager_random_password` (a data source, so no value is in
 * cdk.tf.json) written through the write-only `secret_string_wo` of the secret version. Raising `version` generates
 * and stores a new value. `value` reads it back (pinned to that version id) and is made only when something reads it:
 * a secret no resource of Terraform needs (an application user's, a client certificate's) is then in no data source
 * of the state.
 */
export class GeneratedSecret extends Construct implements SecretSource {
  /** The `aws_secretsmanager_secret`. */
  public readonly resource: SecretsmanagerSecret;
  /** The `aws_secretsmanager_secret_version` that writes the generated value (write-only). */
  public readonly secretVersion: SecretsmanagerSecretVersion;
  public readonly secretArn: string;
  public readonly encryptionKeyArn: string;
  public readonly field: string;
  private readBack?: string;

  constructor(
    scope: Construct,
    id: string,
    props: { shape: GeneratedSecretShape; encryptionKeyArn: string; version: number },
  ) {
    super(scope, id);
    const { shape } = props;
    this.resource = new SecretsmanagerSecret(this, 'Resource', {
      description: shape.description,
      kmsKeyId: props.encryptionKeyArn,
      recoveryWindowInDays: DEFAULTS.terraform.secretRecoveryWindowDays,
    });
    const generator = new DataAwsSecretsmanagerRandomPassword(this, 'Generator', {
      passwordLength: shape.length,
      excludePunctuation: shape.excludePunctuation,
      includeSpace: shape.includeSpace,
      requireEachIncludedType: shape.requireEachIncludedType,
    });
    this.secretVersion = new SecretsmanagerSecretVersion(this, 'Value', {
      secretId: this.resource.id,
      secretStringWo: Fn.jsonencode({ ...shape.template, [shape.generateStringKey]: generator.randomPassword }),
      secretStringWoVersion: props.version,
    });
    this.secretArn = this.resource.arn;
    this.encryptionKeyArn = props.encryptionKeyArn;
    this.field = shape.generateStringKey;
  }

  /** The generated field as a Terraform expression (a data source pinned to the version written here). */
  public get value(): string {
    this.readBack ??= readField(this, this.resource.id, this.field, this.secretVersion.versionId);
    return this.readBack;
  }
}

/** An existing secret, given by ARN; its current version is read at apply time. */
export class ExistingSecret extends Construct implements SecretSource {
  public readonly secretArn: string;
  public readonly encryptionKeyArn?: string;
  public readonly field: string;
  public readonly value: string;

  constructor(scope: Construct, id: string, props: { secretArn: string; field: string; encryptionKeyArn?: string }) {
    super(scope, id);
    this.secretArn = props.secretArn;
    this.encryptionKeyArn = props.encryptionKeyArn;
    this.field = props.field;
    this.value = readField(this, props.secretArn, props.field);
  }
}
