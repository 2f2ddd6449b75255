/**
 * Custom-resource handler that creates a vhost, application users and their permissions on an Amazon MQ for RabbitMQ
 * broker through the RabbitMQ management HTTP API (CloudFormation creates only the admin user).
 *
 * Plain Node 20 `https`; no AWS SDK import at module level so that tests never load it.
 * @see https://www.rabbitmq.com/docs/http-api-reference
 */
import { DEFAULTS } from '../../core/defaults';
import { deadLetterModel, deadLetterRequests } from '../../core/rabbitmq-dead-letter';
import { alternateName } from '../../core/rabbitmq-users';
import { redact } from '../shared/rotation';
import { ManagementApi, defaultGetSecret, parseSecret, permissionPath, exchangePath, userPath } from './management';
import { vhostPath } from './management';
import type { Credentials } from './management';
import { WIRE } from '../../core/wire';
import { requestFromInvocation } from '../shared/invocation';
import type { TerraformInvocation } from '../shared/invocation';

/** One application user and its permission regular expressions on the vhost. */
export interface RabbitMqUserSpec {
  readonly Name: string;
  /** Secret holding `{"username": ..., "password": ...}` (or the bare password). */
  readonly PasswordSecretArn: string;
  readonly Configure: string;
  readonly Write: string;
  readonly Read: string;
}

/** The custom resource's properties (CloudFormation passes every value as a string or a list of objects). */
export interface RabbitMqUsersProperties {
  /** `https://host[:port]`: plaintext `http://` is refused. */
  readonly ManagementUrl: string;
  /** Secret holding the broker admin's `{"username": ..., "password": ...}`. */
  readonly AdminSecretArn: string;
  readonly Vhost: string;
  readonly Users: readonly RabbitMqUserSpec[];
  /** PEM bundle trusted instead of the system CAs (local CAs in tests). @default the Node.js CA store */
  readonly CaBundle?: string;
  /** `default_queue_type` of the vhost ("quorum" on RabbitMQ 4). @default - the broker's default */
  readonly DefaultQueueType?: string;
  /** Quorum queues: the queue poison tasks go to, by a policy on the vhost. @default - no dead-letter policy */
  readonly DeadLetterQueue?: string;
  /** Deliveries before a task is dead-lettered (CloudFormation passes it as a string). @default 20 */
  readonly DeliveryLimit?: number | string;
  /** Exchanges deleted when they exist as `direct` (Celery redeclares them as topic for native delayed delivery). */
  readonly ReplaceDirectExchanges?: readonly string[];
  /** Per-request time limit. @default 10000 */
  readonly TimeoutMs?: number | string;
}

export interface RabbitMqUsersEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: RabbitMqUsersProperties;
  readonly OldResourceProperties?: RabbitMqUsersProperties;
  readonly PhysicalResourceId?: string;
}

export interface RabbitMqUsersResponse {
  readonly PhysicalResourceId: string;
  /** Non-secret facts only. */
  readonly Data: { readonly Vhost: string; readonly UserNames: string };
}

// Amazon MQ creates the default vhost "/" itself; removing it would break the broker's own monitoring user.
const DEFAULT_VHOST = '/';

export interface RabbitMqUsersDependencies {
  /** Returns a secret's string value. @default Secrets Manager GetSecretValue */
  readonly getSecret?: (arn: string) => Promise<string>;
  /** Receives progress lines (method, path, status: never a secret). @default console.log */
  readonly log?: (line: string) => void;
}

function validate(props: RabbitMqUsersProperties | undefined): RabbitMqUsersProperties {
  if (!props) throw new Error('ResourceProperties are missing');
  let url: URL;
  try {
    url = new URL(props.ManagementUrl);
  } catch {
    throw new Error(`ManagementUrl ${JSON.stringify(props.ManagementUrl)} is not a URL: use https://host[:port]`);
  }
  if (url.protocol !== 'https:') {
    throw new Error(
      `ManagementUrl ${JSON.stringify(props.ManagementUrl)} is not allowed: the management API is reached over https:// only`,
    );
  }
  if (typeof props.Vhost !== 'string' || props.Vhost === '') throw new Error('Vhost must be a non-empty string');
  if (!Array.isArray(props.Users)) throw new Error('Users must be a list');
  if (
    props.DeliveryLimit !== undefined &&
    !(Number.isInteger(Number(props.DeliveryLimit)) && Number(props.DeliveryLimit) >= 1)
  ) {
    throw new Error(`DeliveryLimit ${JSON.stringify(props.DeliveryLimit)} must be a positive integer`);
  }
  if (
    props.ReplaceDirectExchanges !== undefined &&
    !(
      Array.isArray(props.ReplaceDirectExchanges) &&
      props.ReplaceDirectExchanges.every((x) => typeof x === 'string' && x !== '' && !x.startsWith('amq.'))
    )
  ) {
    throw new Error('ReplaceDirectExchanges must be a list of exchange names (not "", not amq.*)');
  }
  const names = new Set<string>();
  for (const u of props.Users) {
    if (typeof u?.Name !== 'string' || u.Name === '') throw new Error('every user needs a non-empty Name');
    if (names.has(u.Name)) throw new Error(`user ${JSON.stringify(u.Name)} is listed twice in Users`);
    if (u.Name.endsWith(WIRE.alternateSuffix))
      throw new Error(
        `user ${JSON.stringify(u.Name)} ends with ${JSON.stringify(WIRE.alternateSuffix)}, which names the rotation twin of each user`,
      );
    names.add(u.Name);
  }
  return props;
}

function timeoutOf(props: RabbitMqUsersProperties): number {
  const t = props.TimeoutMs === undefined ? DEFAULTS.rabbitmq.managementApiTimeoutMs : Number(props.TimeoutMs);
  if (!Number.isFinite(t) || t <= 0)
    throw new Error(`TimeoutMs ${JSON.stringify(props.TimeoutMs)} must be a positive number`);
  return t;
}

/** Builds the handler with injectable secret access (tests) or the Secrets Manager default (Lambda). */
export function createHandler(
  deps: RabbitMqUsersDependencies = {},
): (event: RabbitMqUsersEvent) => Promise<RabbitMqUsersResponse> {
  const getSecret = deps.getSecret ?? defaultGetSecret;
  const log = deps.log ?? ((line: string) => console.log(line));

  return async (event) => {
    const props = validate(event.ResourceProperties);
    const secrets: string[] = [];
    const adminArn = props.AdminSecretArn;
    const admin = parseSecret(adminArn, await getSecret(adminArn));
    secrets.push(admin.password);
    if (!admin.username) throw new Error(`secret ${adminArn} has no "${WIRE.secretUsernameField}" field`);
    if (props.Users.some((u) => u.Name === admin.username)) {
      throw new Error(
        `Users must not contain the admin user ${JSON.stringify(admin.username)}: application users are separate identities`,
      );
    }
    const api = new ManagementApi(props.ManagementUrl, admin, props.CaBundle, timeoutOf(props), log, secrets);
    // Stable across updates (even a renamed vhost): a new id would make CloudFormation delete the old one afterwards,
    // removing users that are still wanted.
    const physicalId = event.PhysicalResourceId ?? `rabbitmq-users:${props.Vhost}`;
    const response: RabbitMqUsersResponse = {
      PhysicalResourceId: physicalId,
      Data: { Vhost: props.Vhost, UserNames: props.Users.map((u) => u.Name).join(',') },
    };

    if (event.RequestType === 'Delete') {
      await remove(
        api,
        props.Vhost,
        props.Users.map((u) => u.Name),
      );
      return response;
    }
    if (event.RequestType !== 'Create' && event.RequestType !== 'Update') {
      throw new Error(`RequestType ${JSON.stringify(event.RequestType)} is not Create, Update or Delete`);
    }

    const passwords = new Map<string, Credentials>();
    for (const u of props.Users) {
      const credentials = parseSecret(u.PasswordSecretArn, await getSecret(u.PasswordSecretArn));
      secrets.push(credentials.password);
      passwords.set(u.Name, credentials);
    }
    await converge(api, props, passwords);

    if (event.RequestType === 'Update' && event.OldResourceProperties) {
      // Removals come only after the desired state is complete, so a failed update never leaves fewer users working.
      const old = event.OldResourceProperties;
      const wanted = new Set(props.Users.map((u) => u.Name));
      const goneUsers = (old.Users ?? []).map((u) => u.Name).filter((n) => !wanted.has(n));
      await remove(api, old.Vhost !== props.Vhost ? old.Vhost : undefined, goneUsers);
    }
    return response;
  };
}

/**
 * PUTs vhost, users and permissions; on failure deletes what this invocation created (201), newest first. The user
 * the secret currently names (the user or, after a rotation, its twin) gets the secret's password; an existing twin
 * keeps its password (clients may still use it) and gets the same permissions.
 */
async function converge(
  api: ManagementApi,
  props: RabbitMqUsersProperties,
  passwords: Map<string, Credentials>,
): Promise<void> {
  const created: string[] = [];
  const step = async (path: string, body: object) => {
    if ((await api.request('PUT', path, body)) === 201) created.push(path);
  };
  try {
    await step(vhostPath(props.Vhost), props.DefaultQueueType ? { default_queue_type: props.DefaultQueueType } : {});
    if (props.DeadLetterQueue) {
      const model = deadLetterModel({
        queue: props.DeadLetterQueue,
        deliveryLimit: props.DeliveryLimit === undefined ? undefined : Number(props.DeliveryLimit),
      });
      for (const r of deadLetterRequests(props.Vhost, model)) await step(r.path, r.body);
    }
    for (const name of props.ReplaceDirectExchanges ?? []) {
      // Earlier settings declared it direct; RabbitMQ refuses to redeclare it as topic (406 PRECONDITION_FAILED).
      const path = exchangePath(props.Vhost, name);
      const exchange = (await api.get(path)) as { type?: string } | undefined;
      if (exchange?.type === 'direct') await api.request('DELETE', path, undefined, [200, 204, 404]);
    }
    for (const u of props.Users) {
      const credentials = passwords.get(u.Name)!;
      const active = credentials.username === alternateName(u.Name) ? credentials.username : u.Name;
      const permissions = { configure: u.Configure, write: u.Write, read: u.Read };
      await step(userPath(active), { password: credentials.password, tags: '' });
      await step(permissionPath(props.Vhost, active), permissions);
      const twin = alternateName(active);
      if ((await api.get(userPath(twin))) !== undefined) await step(permissionPath(props.Vhost, twin), permissions);
    }
  } catch (err) {
    const undone: string[] = [];
    for (const path of created.reverse()) {
      try {
        await api.request('DELETE', path, undefined, [200, 204, 404]);
        undone.push(`DELETE ${path} ok`);
      } catch (undoErr) {
        undone.push((undoErr as Error).message);
      }
    }
    const report = undone.length ? `; undone: ${undone.join('; ')}` : '; nothing was created, nothing to undo';
    throw new Error(redact(`${(err as Error).message}${report}`, api.secrets));
  }
}

/** Deletes users and their rotation twins, then the vhost (which takes its permissions with it); 404 means already gone. */
async function remove(api: ManagementApi, vhost: string | undefined, users: readonly string[]): Promise<void> {
  for (const name of users.flatMap((n) => [n, alternateName(n)]))
    await api.request('DELETE', userPath(name), undefined, [200, 204, 404]);
  if (vhost !== undefined && vhost !== DEFAULT_VHOST)
    await api.request('DELETE', vhostPath(vhost), undefined, [200, 204, 404]);
}

/** The custom-resource entry point (`index.onEvent`). */
export const onEvent = createHandler();

/** What Terraform's `aws_lambda_invocation` sends with `lifecycle_scope = "CRUD"` (the input plus `tf`). */
export type RabbitMqUsersInvocation = TerraformInvocation<RabbitMqUsersProperties>;

/**
 * The same handler for Terraform: the invocation becomes a custom-resource event, and the response is the
 * invocation's `result` (the provider stores it in the state: vhost and user names, no secret).
 */
export function createInvocationHandler(
  deps: RabbitMqUsersDependencies = {},
): (invocation: RabbitMqUsersInvocation) => Promise<RabbitMqUsersResponse> {
  const handle = createHandler(deps);
  return async (invocation) => handle(requestFromInvocation(invocation, (p) => `rabbitmq-users:${p.Vhost}`));
}

/** The Terraform entry point (`index.onInvocation`), for `aws_lambda_invocation` with `lifecycle_scope = "CRUD"`. */
export const onInvocation = createInvocationHandler();

export { onRotate } from './rotation';
