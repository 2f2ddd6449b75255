/**
 * Security properties of a synthesized template, checked directly on the JSON (independent of the library's code).
 * Returns one line per violation; an empty list means every property holds.
 */
type Res = { Type: string; Properties?: any; DeletionPolicy?: string; UpdateReplacePolicy?: string };
export type Template = { Resources: Record<string, Res>; Outputs?: Record<string, any> };

const OPEN_V4 = '0.0.0.0/0';
const OPEN_V6 = '::/0';

function ofType(t: Template, type: string): [string, Res][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

function refTarget(value: any): string | undefined {
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') return value.Ref;
    if (Array.isArray(value['Fn::GetAtt'])) return value['Fn::GetAtt'][0];
  }
  return undefined;
}

/** A `{{resolve:secretsmanager:...}}` dynamic reference (possibly built with Fn::Join). */
export function isSecretsManagerReference(value: any): boolean {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return (
    /^"?\{\{resolve:secretsmanager:/.test(text) ||
    (value?.['Fn::Join'] && JSON.stringify(value).includes('{{resolve:secretsmanager:'))
  );
}

export function cacheFindings(t: Template): string[] {
  const out: string[] = [];
  for (const [id, r] of ofType(t, 'AWS::ElastiCache::ReplicationGroup')) {
    const p = r.Properties ?? {};
    const f = (cond: boolean, what: string) => {
      if (!cond) out.push(`${id}: ${what}`);
    };
    f(p.TransitEncryptionEnabled === true, 'TransitEncryptionEnabled is not true');
    f(p.TransitEncryptionMode === 'required', `TransitEncryptionMode is ${JSON.stringify(p.TransitEncryptionMode)}`);
    f(p.AtRestEncryptionEnabled === true, 'AtRestEncryptionEnabled is not true');
    const key = refTarget(p.KmsKeyId);
    f(key !== undefined && t.Resources[key]?.Type === 'AWS::KMS::Key', 'KmsKeyId is not a key of the stack');
    if (p.UserGroupIds !== undefined) {
      // RBAC: exactly one group of the stack; its "default" user off; every other user with passwords from Secrets Manager.
      f(p.AuthToken === undefined, 'AuthToken and UserGroupIds together');
      const group = t.Resources[refTarget(p.UserGroupIds?.[0]) ?? ''];
      f(
        p.UserGroupIds.length === 1 && group?.Type === 'AWS::ElastiCache::UserGroup',
        'UserGroupIds is not one user group of the stack',
      );
      for (const userRef of group?.Properties?.UserIds ?? []) {
        const u = t.Resources[refTarget(userRef) ?? '']?.Properties ?? {};
        if (u.UserName === 'default')
          f(/^off\b/.test(u.AccessString ?? ''), `the default user of ${refTarget(userRef)} is not off`);
        else
          f(
            u.AuthenticationMode?.Type === 'password' &&
              (u.AuthenticationMode.Passwords ?? []).length > 0 &&
              u.AuthenticationMode.Passwords.every(isSecretsManagerReference),
            `user ${refTarget(userRef)} has no password from Secrets Manager`,
          );
      }
    } else {
      f(isSecretsManagerReference(p.AuthToken), 'AuthToken is not a Secrets Manager dynamic reference');
    }
    f(p.MultiAZEnabled === true && p.AutomaticFailoverEnabled === true, 'Multi-AZ or automatic failover off');
    f((p.NumCacheClusters ?? 0) >= 2, 'fewer than 2 nodes');
    f(p.ClusterMode === undefined || p.ClusterMode === 'disabled', `ClusterMode ${p.ClusterMode}`);
    f(p.NumNodeGroups === undefined || p.NumNodeGroups === 1, `NumNodeGroups ${p.NumNodeGroups}`);
    const pg = t.Resources[refTarget(p.CacheParameterGroupName) ?? ''];
    f(
      pg?.Type === 'AWS::ElastiCache::ParameterGroup' &&
        pg.Properties?.Properties?.['maxmemory-policy'] === 'noeviction',
      'parameter group without maxmemory-policy noeviction',
    );
    const sg = t.Resources[refTarget(p.CacheSubnetGroupName) ?? ''];
    f(sg?.Type === 'AWS::ElastiCache::SubnetGroup', 'no dedicated subnet group');
    f(typeof p.Port === 'number' && p.Port !== 6379, `Port ${p.Port}`);
    f((p.SnapshotRetentionLimit ?? 0) >= 15, `SnapshotRetentionLimit ${p.SnapshotRetentionLimit}`);
    f(p.AutoMinorVersionUpgrade === true, 'AutoMinorVersionUpgrade is not true');
    const logs = (p.LogDeliveryConfigurations ?? []) as any[];
    f(
      ['slow-log', 'engine-log'].every((type) =>
        logs.some((l) => l.LogType === type && l.DestinationType === 'cloudwatch-logs'),
      ),
      'slow and engine logs are not both delivered',
    );
    for (const l of logs) {
      const lg = t.Resources[refTarget(l.DestinationDetails?.CloudWatchLogsDetails?.LogGroup) ?? ''];
      f(
        lg?.Type === 'AWS::Logs::LogGroup' &&
          refTarget(lg.Properties?.KmsKeyId) !== undefined &&
          (lg.Properties?.RetentionInDays ?? 0) >= 365,
        `log group of ${l.LogType} not CMK-encrypted with >= 365 days retention`,
      );
    }
    f(r.DeletionPolicy === 'Snapshot' || r.DeletionPolicy === 'Retain', `DeletionPolicy ${r.DeletionPolicy}`);
    f(Array.isArray(p.SecurityGroupIds) && p.SecurityGroupIds.length > 0, 'no security group');
  }
  return out;
}

export function brokerFindings(t: Template): string[] {
  const out: string[] = [];
  for (const [id, r] of ofType(t, 'AWS::AmazonMQ::Broker')) {
    const p = r.Properties ?? {};
    const f = (cond: boolean, what: string) => {
      if (!cond) out.push(`${id}: ${what}`);
    };
    f(p.EngineType === 'RABBITMQ', `EngineType ${p.EngineType}`);
    f(p.PubliclyAccessible === false, 'PubliclyAccessible is not false');
    f(p.DeploymentMode === 'CLUSTER_MULTI_AZ', `DeploymentMode ${p.DeploymentMode}`);
    f(p.Logs?.General === true, 'general logs off');
    f(p.AutoMinorVersionUpgrade === true, 'AutoMinorVersionUpgrade is not true');
    f(
      Array.isArray(p.Users) && p.Users.length > 0 && p.Users.every((u: any) => isSecretsManagerReference(u.Password)),
      'a user password is not a Secrets Manager dynamic reference',
    );
    f(Array.isArray(p.SecurityGroups) && p.SecurityGroups.length > 0, 'no security groups');
    f(r.DeletionPolicy === 'Retain', `DeletionPolicy ${r.DeletionPolicy}`);
  }
  return out;
}

export function keyAndSecretFindings(t: Template): string[] {
  const out: string[] = [];
  for (const [id, r] of ofType(t, 'AWS::SecretsManager::Secret')) {
    const key = refTarget(r.Properties?.KmsKeyId);
    if (!key || t.Resources[key]?.Type !== 'AWS::KMS::Key')
      out.push(`${id}: secret without a customer-managed KmsKeyId`);
    if (r.Properties?.SecretString !== undefined) out.push(`${id}: secret with a literal SecretString`);
    if (r.DeletionPolicy !== 'Retain') out.push(`${id}: secret not retained`);
  }
  for (const [id, r] of ofType(t, 'AWS::KMS::Key')) {
    if (r.Properties?.EnableKeyRotation !== true) out.push(`${id}: key rotation off`);
    if (r.DeletionPolicy !== 'Retain') out.push(`${id}: key not retained`);
    for (const s of r.Properties?.KeyPolicy?.Statement ?? []) {
      if ((s.Principal === '*' || s.Principal?.AWS === '*') && !s.Condition)
        out.push(`${id}: key policy grants * without a condition`);
    }
  }
  return out;
}

/** Security groups: no open ingress, no protocol -1, no allow-all egress, descriptions everywhere. */
export function networkFindings(t: Template): string[] {
  const out: string[] = [];
  const rules: { id: string; dir: 'in' | 'out'; group: string; rule: any }[] = [];
  for (const [id, r] of ofType(t, 'AWS::EC2::SecurityGroup')) {
    const p = r.Properties ?? {};
    if (!p.GroupDescription) out.push(`${id}: no description`);
    for (const rule of p.SecurityGroupIngress ?? []) rules.push({ id, dir: 'in', group: id, rule });
    for (const rule of p.SecurityGroupEgress ?? []) rules.push({ id, dir: 'out', group: id, rule });
    const standaloneEgress = ofType(t, 'AWS::EC2::SecurityGroupEgress').filter(
      ([, e]) => refTarget(e.Properties?.GroupId) === id,
    );
    // CloudFormation adds allow-all egress to a group created without inline egress, and strips it when a
    // standalone egress rule is attached (aws/aws-cdk#987): one of the two must be there.
    if ((p.SecurityGroupEgress ?? []).length === 0 && standaloneEgress.length === 0)
      out.push(`${id}: no egress rule at all, so CloudFormation allows all egress`);
  }
  for (const [id, r] of ofType(t, 'AWS::EC2::SecurityGroupIngress'))
    rules.push({ id, dir: 'in', group: refTarget(r.Properties?.GroupId) ?? '?', rule: r.Properties });
  for (const [id, r] of ofType(t, 'AWS::EC2::SecurityGroupEgress'))
    rules.push({ id, dir: 'out', group: refTarget(r.Properties?.GroupId) ?? '?', rule: r.Properties });
  for (const { id, dir, rule } of rules) {
    if (!rule.Description) out.push(`${id}: ${dir} rule without a description`);
    if (String(rule.IpProtocol) === '-1') out.push(`${id}: ${dir} rule with protocol -1`);
    if (rule.CidrIp === OPEN_V4 || rule.CidrIpv6 === OPEN_V6)
      out.push(`${id}: ${dir} rule open to ${rule.CidrIp ?? rule.CidrIpv6}`);
  }
  return out;
}

/** Ports open on a group (ingress), as "proto:from-to". */
export function ingressPorts(t: Template, groupLogicalId: string): string[] {
  const inline = (t.Resources[groupLogicalId]?.Properties?.SecurityGroupIngress ?? []) as any[];
  const standalone = ofType(t, 'AWS::EC2::SecurityGroupIngress')
    .filter(([, r]) => refTarget(r.Properties?.GroupId) === groupLogicalId)
    .map(([, r]) => r.Properties);
  return [...inline, ...standalone].map((r) => `${r.IpProtocol}:${r.FromPort}-${r.ToPort}`);
}

export function allFindings(t: Template): string[] {
  return [...cacheFindings(t), ...brokerFindings(t), ...keyAndSecretFindings(t), ...networkFindings(t)];
}
