import { IssueCollector, show } from './errors';

/** A physical-name rule of an AWS service, checked at synth time. */
export interface NameRule {
  readonly what: string;
  readonly minLength: number;
  readonly maxLength: number;
  readonly pattern: RegExp;
  /** Human wording of `pattern`. */
  readonly allowed: string;
  /** Extra checks returning a reason, or undefined. */
  readonly extra?: (value: string) => string | undefined;
  /** Where the rule comes from. */
  readonly source: string;
}

/** ElastiCache and RDS identifiers: no trailing hyphen, no two hyphens in a row. */
const hyphenRules = (v: string) =>
  v.endsWith('-')
    ? 'it must not end with a hyphen'
    : v.includes('--')
      ? 'it must not contain two consecutive hyphens'
      : undefined;

export const NAME_RULES = {
  replicationGroupId: {
    what: 'ElastiCache replication group id',
    minLength: 1,
    maxLength: 40,
    pattern: /^[a-z][a-z0-9-]*$/,
    allowed: 'lowercase letters, digits and hyphens, starting with a letter',
    extra: hyphenRules,
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html',
  },
  /**
   * RDS DB instance and cluster identifiers (stored lower case). Both targets name a database from its construct
   * path when none is given, so that its log groups can be made first, encrypted and with a retention.
   */
  rdsIdentifier: {
    what: 'RDS DB identifier',
    minLength: 1,
    maxLength: 63,
    pattern: /^[a-z][a-z0-9-]*$/,
    allowed: 'lowercase letters, digits and hyphens, starting with a letter',
    extra: hyphenRules,
    source: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html',
  },
  brokerName: {
    what: 'Amazon MQ broker name',
    minLength: 1,
    maxLength: 50,
    pattern: /^[0-9A-Za-z_-]+$/,
    allowed: 'letters, digits, hyphens and underscores',
    source: 'https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers.html',
  },
  rabbitMqUsername: {
    what: 'Amazon MQ for RabbitMQ user name',
    minLength: 2,
    maxLength: 100,
    pattern: /^[A-Za-z0-9._-]+$/,
    allowed: 'letters, digits, hyphens, periods and underscores',
    extra: (v: string) => (v.toLowerCase() === 'guest' ? '"guest" is reserved by RabbitMQ' : undefined),
    source: 'https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-basic-elements-user.html',
  },
  rabbitMqVhost: {
    what: 'RabbitMQ virtual host',
    minLength: 1,
    maxLength: 255,
    pattern: /^[\x21-\x7e]+$/,
    allowed: 'printable ASCII without spaces',
    source: 'https://www.rabbitmq.com/docs/vhosts',
  },
  redisUsername: {
    what: 'ElastiCache user name',
    minLength: 1,
    maxLength: 40,
    pattern: /^[A-Za-z0-9_-]+$/,
    allowed: 'letters, digits, hyphens and underscores',
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html',
  },
  lambdaFunctionName: {
    what: 'Lambda function name',
    minLength: 1,
    maxLength: 64,
    pattern: /^[A-Za-z0-9_-]+$/,
    allowed: 'letters, digits, hyphens and underscores',
    source: 'https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html',
  },
  /** The stem of a cache's RBAC user and group ids (which add a suffix and stay within 40 characters). */
  rbacIdPrefix: {
    what: 'ElastiCache RBAC id prefix',
    minLength: 1,
    maxLength: 30,
    pattern: /^[a-z][a-z0-9-]*$/,
    allowed: 'lowercase letters, digits and hyphens, starting with a letter',
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateUser.html',
  },
  /** CloudWatch alarm and dashboard names (Terraform requires them; CloudFormation generates them). */
  alarmName: {
    what: 'CloudWatch alarm or dashboard name',
    minLength: 1,
    maxLength: 255,
    pattern: /^[A-Za-z0-9_-]+$/,
    allowed: 'letters, digits, hyphens and underscores',
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html',
  },
  secretName: {
    what: 'Secrets Manager secret name',
    minLength: 1,
    maxLength: 512,
    pattern: /^[A-Za-z0-9/_+=.@-]+$/,
    allowed: 'letters, digits and / _ + = . @ -',
    source: 'https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html',
  },
} satisfies Record<string, NameRule>;

/** Checks a physical name; tokens and undefined are skipped. */
export function checkName(issues: IssueCollector, rule: NameRule, prop: string, value: string | undefined): void {
  if (!issues.known(value)) return;
  const problems: string[] = [];
  if (value.length < rule.minLength || value.length > rule.maxLength) {
    problems.push(
      `it is ${value.length} character${value.length === 1 ? '' : 's'} long; allowed: ${rule.minLength} to ${rule.maxLength}`,
    );
  }
  if (!rule.pattern.test(value)) problems.push(`allowed characters: ${rule.allowed}`);
  const extra = rule.extra?.(value);
  if (extra) problems.push(extra);
  if (problems.length > 0) {
    issues.error(
      `name.${prop}`,
      prop,
      `${prop} ${show(value)} is not a valid ${rule.what}: ${problems.join('; ')} (${rule.source}).`,
    );
  }
}
