/**
 * Security properties of a synthesized cdk.tf.json, checked directly on the JSON (independent of the library's code).
 * The Terraform counterpart of test/cdk/security.ts; Checkov ids in comments say which rule each check stands for.
 * Returns one line per violation; an empty list means every property holds.
 */
export type Block = Record<string, any>;
export type TfJson = {
  resource?: Record<string, Record<string, Block>>;
  data?: Record<string, Record<string, Block>>;
  output?: Record<string, Block>;
  terraform?: Block;
};

const OPEN_V4 = '0.0.0.0/0';
const OPEN_V6 = '::/0';

export function ofType(t: TfJson, type: string): [string, Block][] {
  return Object.entries(t.resource?.[type] ?? {});
}

export function dataOfType(t: TfJson, type: string): [string, Block][] {
  return Object.entries(t.data?.[type] ?? {});
}

/** `${aws_x.name.attr}` → [type, name, attr] when the whole value is one reference. */
export function reference(value: unknown): [string, string, string] | undefined {
  const m = typeof value === 'string' ? /^\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/.exec(value) : null;
  return m ? [m[1], m[2], m[3]] : undefined;
}

/** The resource a whole-value reference points at, if it is of `type` and exists in the stack. */
export function referenced(t: TfJson, value: unknown, type: string): Block | undefined {
  const ref = reference(value);
  return ref && ref[0] === type ? t.resource?.[type]?.[ref[1]] : undefined;
}

/**
 * True when the value is read from Secrets Manager at apply time: one `${...}` expression that reads the
 * `secret_string` of an `aws_secretsmanager_secret_version` data source of this stack, and no literal text around it.
 */
export function isSecretsManagerRead(t: TfJson, value: unknown): boolean {
  if (typeof value !== 'string' || !value.startsWith('${') || !value.endsWith('}') || value.indexOf('${', 2) !== -1)
    return false;
  const m = /data\.aws_secretsmanager_secret_version\.([A-Za-z0-9_-]+)\.secret_string/.exec(value);
  return m !== null && t.data?.aws_secretsmanager_secret_version?.[m[1]] !== undefined;
}

const isTrue = (v: unknown) => v === true || v === 'true';

function logGroupOk(t: TfJson, value: unknown): boolean {
  const ref = reference(value);
  const lg = ref && ref[0] === 'aws_cloudwatch_log_group' ? t.resource?.aws_cloudwatch_log_group?.[ref[1]] : undefined;
  return (
    lg !== undefined && referenced(t, lg.kms_key_id, 'aws_kms_key') !== undefined && (lg.retention_in_days ?? 0) >= 365
  );
}

export function cacheFindings(t: TfJson): string[] {
  const out: string[] = [];
  for (const [id, p] of ofType(t, 'aws_elasticache_replication_group')) {
    const f = (cond: boolean, what: string) => {
      if (!cond) out.push(`${id}: ${what}`);
    };
    f(p.transit_encryption_enabled === true, 'transit_encryption_enabled is not true'); // CKV_AWS_30
    f(
      p.transit_encryption_mode === 'required',
      `transit_encryption_mode is ${JSON.stringify(p.transit_encryption_mode)}`,
    );
    f(isTrue(p.at_rest_encryption_enabled), 'at_rest_encryption_enabled is not true'); // CKV_AWS_29
    f(referenced(t, p.kms_key_id, 'aws_kms_key') !== undefined, 'kms_key_id is not a key of the stack'); // CKV_AWS_191
    // CKV_AWS_31: an AUTH token read from Secrets Manager at apply time, or RBAC users with the default user off.
    if (p.user_group_ids === undefined) {
      f(isSecretsManagerRead(t, p.auth_token), 'auth_token is not read from Secrets Manager at apply time');
    } else {
      f(p.auth_token === undefined, 'auth_token next to RBAC user groups');
      for (const finding of rbacFindings(t, p.user_group_ids)) out.push(`${id}: RBAC ${finding}`);
    }
    f(p.multi_az_enabled === true && p.automatic_failover_enabled === true, 'Multi-AZ or automatic failover off'); // CKV2_AWS_50
    f((p.num_cache_clusters ?? 0) >= 2, 'fewer than 2 nodes');
    f(p.cluster_mode === undefined || p.cluster_mode === 'disabled', `cluster_mode ${p.cluster_mode}`);
    f(p.num_node_groups === undefined || p.num_node_groups === 1, `num_node_groups ${p.num_node_groups}`);
    const pg = referenced(t, p.parameter_group_name, 'aws_elasticache_parameter_group');
    f(
      (pg?.parameter ?? []).some((x: Block) => x.name === 'maxmemory-policy' && x.value === 'noeviction'),
      'parameter group without maxmemory-policy noeviction',
    );
    f(referenced(t, p.subnet_group_name, 'aws_elasticache_subnet_group') !== undefined, 'no dedicated subnet group');
    f(typeof p.port === 'number' && p.port !== 6379, `port ${p.port}`);
    f((p.snapshot_retention_limit ?? 0) >= 15, `snapshot_retention_limit ${p.snapshot_retention_limit}`);
    f(isTrue(p.auto_minor_version_upgrade), 'auto_minor_version_upgrade is not true');
    const logs = (p.log_delivery_configuration ?? []) as Block[];
    f(
      ['slow-log', 'engine-log'].every((type) =>
        logs.some((l) => l.log_type === type && l.destination_type === 'cloudwatch-logs'),
      ),
      'slow and engine logs are not both delivered',
    );
    for (const l of logs)
      f(logGroupOk(t, l.destination), `log group of ${l.log_type} not CMK-encrypted with >= 365 days retention`);
    f(
      typeof p.final_snapshot_identifier === 'string' || p.lifecycle?.prevent_destroy === true,
      'neither a final snapshot nor prevent_destroy',
    );
    f(Array.isArray(p.security_group_ids) && p.security_group_ids.length > 0, 'no security group');
  }
  return out;
}

/**
 * The user groups of a replication group: of this stack, the `default` user switched off without a password, every
 * other user with password authentication whose passwords are read from Secrets Manager at apply time.
 */
export function rbacFindings(t: TfJson, userGroupIds: unknown): string[] {
  const out: string[] = [];
  const groups = (Array.isArray(userGroupIds) ? userGroupIds : []).map((g) => [
    g,
    referenced(t, g, 'aws_elasticache_user_group'),
  ]);
  if (groups.length !== 1 || groups.some(([, g]) => !g))
    return [`user_group_ids ${JSON.stringify(userGroupIds)} is not one group of the stack`];
  const group = groups[0][1] as Block;
  const users = (group.user_ids as unknown[]).map((u) => [u, referenced(t, u, 'aws_elasticache_user')] as const);
  for (const [id, u] of users) {
    if (!u) {
      out.push(`user ${id} is not a user of the stack`);
      continue;
    }
    const mode = u.authentication_mode ?? {};
    if (u.user_name === 'default') {
      if (!/^off\b/.test(u.access_string) || mode.type !== 'no-password-required')
        out.push(`the default user is not switched off (${u.access_string}, ${mode.type})`);
    } else {
      if (!/(^|\s)on(\s|$)/.test(u.access_string) || /(^|\s)(nopass|>|#)/.test(u.access_string))
        out.push(`${u.user_name}: access string ${u.access_string}`);
      if (mode.type !== 'password' || !(mode.passwords ?? []).every((x: unknown) => isSecretsManagerRead(t, x)))
        out.push(`${u.user_name}: passwords not read from Secrets Manager at apply time`);
      if (u.passwords !== undefined) out.push(`${u.user_name}: top-level passwords`);
    }
  }
  if (!users.some(([, u]) => u?.user_name === 'default')) out.push('no default user in the group');
  return out;
}

export function brokerFindings(t: TfJson): string[] {
  const out: string[] = [];
  for (const [id, p] of ofType(t, 'aws_mq_broker')) {
    const f = (cond: boolean, what: string) => {
      if (!cond) out.push(`${id}: ${what}`);
    };
    f(p.engine_type === 'RabbitMQ', `engine_type ${p.engine_type}`);
    f(p.publicly_accessible === false, 'publicly_accessible is not false'); // CKV_AWS_69
    f(p.deployment_mode === 'CLUSTER_MULTI_AZ', `deployment_mode ${p.deployment_mode}`);
    f(p.logs?.general === true, 'general logs off'); // CKV_AWS_48
    f(p.auto_minor_version_upgrade === true, 'auto_minor_version_upgrade is not true'); // CKV_AWS_207
    f(
      Array.isArray(p.user) && p.user.length > 0 && p.user.every((u: Block) => isSecretsManagerRead(t, u.password)),
      'a user password is not read from Secrets Manager at apply time',
    );
    f(Array.isArray(p.security_groups) && p.security_groups.length > 0, 'no security groups');
    f(p.lifecycle?.prevent_destroy === true, 'broker without prevent_destroy');
  }
  return out;
}

export function keyAndSecretFindings(t: TfJson): string[] {
  const out: string[] = [];
  for (const [id, s] of ofType(t, 'aws_secretsmanager_secret')) {
    if (!referenced(t, s.kms_key_id, 'aws_kms_key')) out.push(`${id}: secret without a customer-managed kms_key_id`); // CKV_AWS_149
    if ((s.recovery_window_in_days ?? 30) < 7) out.push(`${id}: recovery window below 7 days`);
  }
  for (const [id, v] of ofType(t, 'aws_secretsmanager_secret_version')) {
    if (v.secret_string !== undefined || v.secret_binary !== undefined)
      out.push(`${id}: secret value in the configuration (secret_string/secret_binary)`);
    if (
      typeof v.secret_string_wo !== 'string' ||
      !/^\$\{.*data\.aws_secretsmanager_random_password\./.test(v.secret_string_wo)
    )
      out.push(`${id}: secret_string_wo is not generated by aws_secretsmanager_random_password`);
    if (typeof v.secret_string_wo_version !== 'number') out.push(`${id}: no secret_string_wo_version`);
  }
  for (const [id, k] of ofType(t, 'aws_kms_key')) {
    if (k.enable_key_rotation !== true) out.push(`${id}: key rotation off`); // CKV_AWS_7
    if (k.lifecycle?.prevent_destroy !== true) out.push(`${id}: key without prevent_destroy`);
    if ((k.deletion_window_in_days ?? 30) < 30) out.push(`${id}: deletion window below 30 days`);
    let policy: Block | undefined;
    try {
      policy = JSON.parse(k.policy);
    } catch {
      policy = undefined;
    }
    if (!policy) {
      out.push(`${id}: no explicit key policy`);
      continue;
    }
    for (const s of policy.Statement ?? []) {
      if ((s.Principal === '*' || s.Principal?.AWS === '*') && !s.Condition)
        out.push(`${id}: key policy grants * without a condition`);
    }
    if (
      !(policy.Statement ?? []).some(
        (s: Block) => /^logs\..*\.amazonaws\.com$/.test(s.Principal?.Service ?? '') && s.Condition,
      )
    )
      out.push(`${id}: key policy does not let CloudWatch Logs use the key`);
  }
  for (const [id, lg] of ofType(t, 'aws_cloudwatch_log_group')) {
    if (!referenced(t, lg.kms_key_id, 'aws_kms_key')) out.push(`${id}: log group without a customer-managed key`); // CKV_AWS_158
    if ((lg.retention_in_days ?? 0) < 365) out.push(`${id}: retention below 365 days`); // CKV_AWS_338
  }
  return out;
}

/** Security groups: no inline rules, no open ingress, no protocol -1, no allow-all egress, descriptions everywhere. */
export function networkFindings(t: TfJson): string[] {
  const out: string[] = [];
  for (const [id, g] of ofType(t, 'aws_security_group')) {
    if (!g.description) out.push(`${id}: no description`); // CKV_AWS_23
    // An inline block makes Terraform own every rule of the group and delete the standalone rule resources.
    if (g.ingress !== undefined) out.push(`${id}: inline ingress`);
    if (g.egress !== undefined) out.push(`${id}: inline egress`);
  }
  if (ofType(t, 'aws_security_group_rule').length > 0) out.push('aws_security_group_rule: legacy rule resources');
  const rules = [
    ...ofType(t, 'aws_vpc_security_group_ingress_rule').map(([id, r]) => ({ id, dir: 'in', r })),
    ...ofType(t, 'aws_vpc_security_group_egress_rule').map(([id, r]) => ({ id, dir: 'out', r })),
  ];
  for (const { id, dir, r } of rules) {
    if (!r.description) out.push(`${id}: ${dir} rule without a description`);
    if (String(r.ip_protocol) === '-1' || String(r.ip_protocol) === 'all')
      out.push(`${id}: ${dir} rule with protocol ${r.ip_protocol}`); // CKV_AWS_382
    if (r.cidr_ipv4 === OPEN_V4 || r.cidr_ipv6 === OPEN_V6)
      out.push(`${id}: ${dir} rule open to ${r.cidr_ipv4 ?? r.cidr_ipv6}`); // CKV_AWS_24/25/260
    if (r.ip_protocol === 'tcp' && (r.from_port === undefined || r.from_port !== r.to_port))
      out.push(`${id}: ${dir} rule on a port range`);
    if (!r.referenced_security_group_id) out.push(`${id}: ${dir} rule without a peer security group`);
  }
  return out;
}

/** Ports open on a group (ingress), as "proto:from-to from <group name>". */
export function ingressRules(t: TfJson, groupName: string): string[] {
  return ofType(t, 'aws_vpc_security_group_ingress_rule')
    .filter(([, r]) => reference(r.security_group_id)?.[1] === groupName)
    .map(
      ([, r]) =>
        `${r.ip_protocol}:${r.from_port}-${r.to_port} from ${reference(r.referenced_security_group_id)?.[1] ?? r.referenced_security_group_id}`,
    )
    .sort();
}

/**
 * No secret value anywhere: every password-like argument is an apply-time expression, and no output or SSM value
 * reads a secret string, a generated password or an AUTH token.
 */
export function secretFindings(t: TfJson): string[] {
  const out: string[] = [];
  const visit = (node: unknown, path: string) => {
    if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (
          /^(password|auth_token|secret_string|secret_string_wo|secret_binary|token)$/.test(k) &&
          !(typeof v === 'string' && v.startsWith('${') && v.endsWith('}'))
        )
          out.push(`${path}.${k}: a literal`);
        if (
          k === 'passwords' &&
          !(Array.isArray(v) && v.every((x) => typeof x === 'string' && x.startsWith('${') && x.endsWith('}')))
        )
          out.push(`${path}.${k}: a literal`);
        visit(v, `${path}.${k}`);
      }
    }
  };
  visit(t.resource, 'resource');
  const reads = /secret_string|random_password|\.auth_token|\.password|user\[/;
  for (const [id, o] of Object.entries(t.output ?? {}))
    if (reads.test(JSON.stringify(o.value))) out.push(`output ${id}: reads a secret`);
  for (const [id, p] of ofType(t, 'aws_ssm_parameter'))
    if (reads.test(String(p.value))) out.push(`${id}: SSM value reads a secret`);
  return out;
}

/** Actions without resource-level permissions, the only ones a library policy may grant on "*". */
export const STAR_ACTIONS = [
  // https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
  'secretsmanager:GetRandomPassword',
];

/** The statements of a JSON policy document, with Action and Resource as lists. */
export function statementsOf(
  policy: string,
): { Effect: string; Action: string[]; Resource: string[]; Condition?: Block; Principal?: Block }[] {
  const doc = JSON.parse(policy);
  return (doc.Statement as Block[]).map((st) => ({
    ...st,
    Action: [st.Action].flat(),
    Resource: [st.Resource].flat(),
  })) as never;
}

/**
 * Library functions and their identities: each function has its own role, one customer-managed policy and a
 * CMK-encrypted log group; no policy grants "*" but for actions without resource-level permissions; no inline
 * policies on the library's roles; every secret of the stack rotates within 90 days (AUTH tokens rotate by version).
 */
export function identityFindings(t: TfJson): string[] {
  const out: string[] = [];
  for (const [id, p] of ofType(t, 'aws_iam_policy'))
    for (const st of statementsOf(p.policy))
      if (st.Resource.includes('*') && !st.Action.every((a) => STAR_ACTIONS.includes(a)))
        out.push(`${id}: "*" resource for ${st.Action.join(', ')}`);
  for (const [id, f] of ofType(t, 'aws_lambda_function')) {
    const role = referenced(t, f.role, 'aws_iam_role');
    if (!role) out.push(`${id}: role is not a role of the stack`);
    const roleName = reference(f.role)?.[1];
    const attached = ofType(t, 'aws_iam_role_policy_attachment').filter(([, a]) => reference(a.role)?.[1] === roleName);
    if (attached.length !== 1 || !referenced(t, attached[0][1].policy_arn, 'aws_iam_policy'))
      out.push(`${id}: not exactly one customer-managed policy`);
    if (!logGroupOk(t, f.logging_config?.log_group)) out.push(`${id}: log group not CMK-encrypted with >= 365 days`);
    if (!String(f.runtime).startsWith('nodejs')) out.push(`${id}: runtime ${f.runtime}`);
  }
  for (const [id, r] of ofType(t, 'aws_iam_role')) {
    const trust = statementsOf(r.assume_role_policy);
    if (trust.some((st) => JSON.stringify(st.Principal).includes('"*"'))) out.push(`${id}: trusts "*"`);
  }
  const rotated = new Map(
    ofType(t, 'aws_secretsmanager_secret_rotation').map(([, r]) => [reference(r.secret_id)?.[1], r] as const),
  );
  // The secrets an AUTH token is read from (through the data source's secret_id): they rotate by version.
  const tokens = new Set(
    ofType(t, 'aws_elasticache_replication_group').map(([, g]) => {
      const source = /data\.aws_secretsmanager_secret_version\.([A-Za-z0-9_]+)\.secret_string/.exec(
        String(g.auth_token),
      );
      return source ? reference(t.data?.aws_secretsmanager_secret_version?.[source[1]]?.secret_id)?.[1] : undefined;
    }),
  );
  for (const [id] of ofType(t, 'aws_secretsmanager_secret')) {
    if (tokens.has(id)) continue;
    const r = rotated.get(id);
    const days = Number(/^rate\((\d+) days?\)$/.exec(r?.rotation_rules?.schedule_expression ?? '')?.[1]);
    if (!r) out.push(`${id}: secret without rotation`);
    else if (!(days >= 1 && days <= 90)) out.push(`${id}: rotation every ${r.rotation_rules?.schedule_expression}`);
    else if (!referenced(t, r.rotation_lambda_arn, 'aws_lambda_function'))
      out.push(`${id}: rotation by a function outside the stack`);
  }
  return out;
}

export function allFindings(t: TfJson): string[] {
  return [
    ...cacheFindings(t),
    ...brokerFindings(t),
    ...keyAndSecretFindings(t),
    ...networkFindings(t),
    ...secretFindings(t),
    ...identityFindings(t),
  ];
}
