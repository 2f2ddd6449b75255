/** A neutral IAM statement; each adapter renders it in its own way. */
export interface IamStatementModel {
  /** The statement effect: always "Allow". */
  readonly effect: 'Allow';
  /** The IAM actions the statement allows, e.g. "secretsmanager:GetSecretValue". */
  readonly actions: readonly string[];
  /** The ARNs the actions apply to ("*" only where the actions have no resource-level permissions). */
  readonly resources: readonly string[];
  /** IAM condition blocks by operator, then condition key, e.g. `{ StringEquals: { "kms:ViaService": ... } }`. */
  readonly conditions?: Record<string, Record<string, string | readonly string[]>>;
}

export const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] as const;

/**
 * What a rotation function does to the secrets it rotates (the four steps).
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-required-permissions-function.html
 */
export const SECRET_ROTATION_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
] as const;

/** The condition that limits a KMS action to calls Secrets Manager makes on the caller's behalf in `region`. */
export function viaSecretsManager(region: string): NonNullable<IamStatementModel['conditions']> {
  return { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } };
}

/** Rotating exactly these secrets (never `*`). */
export function rotateSecretsStatement(secretArns: readonly string[]): IamStatementModel {
  return { effect: 'Allow', actions: [...SECRET_ROTATION_ACTIONS], resources: [...secretArns] };
}

/**
 * Reading one secret encrypted with a customer-managed key: the secret by ARN (never `*`), and `kms:Decrypt` on that
 * key only when called through Secrets Manager in the key's region.
 */
export function readSecretStatements(args: {
  secretArn: string;
  keyArn?: string;
  region: string;
}): IamStatementModel[] {
  const statements: IamStatementModel[] = [
    { effect: 'Allow', actions: [...SECRET_READ_ACTIONS], resources: [args.secretArn] },
  ];
  if (args.keyArn) {
    statements.push({
      effect: 'Allow',
      actions: ['kms:Decrypt'],
      resources: [args.keyArn],
      conditions: viaSecretsManager(args.region),
    });
  }
  return statements;
}

/**
 * Key-policy statement that lets CloudWatch Logs use a customer-managed key for log groups of this account and region.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
export function logsKeyPolicyStatement(args: {
  region: string;
  account: string;
  partition: string;
  urlSuffix?: string;
}) {
  return {
    sid: 'AllowCloudWatchLogsForThisAccount',
    principalService: `logs.${args.region}.amazonaws.com`,
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    conditions: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': `arn:${args.partition}:logs:${args.region}:${args.account}:log-group:*`,
      },
    },
  } as const;
}

/** A key-policy statement for an AWS service principal (CloudWatch Logs, CloudWatch alarms publishing to a topic). */
export interface KeyServiceStatement {
  readonly sid: string;
  readonly principalService: string;
  readonly actions: readonly string[];
  readonly conditions: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Writing to one log group (its ARN covers its streams). */
export function logWriteStatement(logGroupArn: string): IamStatementModel {
  return { effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroupArn] };
}

/**
 * What a Lambda function attached to a VPC needs for its network interfaces. These actions have no resource-level
 * permissions, so the resource is "*" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).
 */
export const VPC_FUNCTION_NETWORK_STATEMENT: IamStatementModel = {
  effect: 'Allow',
  actions: [
    'ec2:CreateNetworkInterface',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSubnets',
    'ec2:DeleteNetworkInterface',
    'ec2:AssignPrivateIpAddresses',
    'ec2:UnassignPrivateIpAddresses',
  ],
  resources: ['*'],
};
