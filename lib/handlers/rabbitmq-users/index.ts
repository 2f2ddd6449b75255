/**
 * Custom-resource handler that creates a vhost, application users and their permissions on an Amazon MQ for RabbitMQ
 * broker through the RabbitMQ management HTTP API (CloudFormation creates only the admin user).
 *
 * Plain Node 20 `https`; no AWS SDK import at module level so that tests never load it.
 * @see https://www.rabbitmq.com/docs/http-api-reference
 */
import * as https from 'node:https';
import { DEFAULTS } from '../../core/defaults';

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

export interface RabbitMqUsersDependencies {
  /** Returns a secret's string value. @default Secrets Manager GetSecretValue */
  readonly getSecret?: (arn: string) => Promise<string>;
  /** Receives progress lines (method, path, status: never a secret). @default console.log */
  readonly log?: (line: string) => void;
}

// Enough of the management API's answer to explain a failure, without flooding CloudFormation's event log.
const BODY_EXCERPT_CHARS = 300;
// Amazon MQ creates the default vhost "/" itself; removing it would break the broker's own monitoring user.
const DEFAULT_VHOST = '/';

async function defaultGetSecret(arn: string): Promise<string> {
  // Lazy: the SDK ships in the Lambda Node.js runtime, and tests inject getSecret instead of loading it.
  const sm = require('@aws-sdk/client-secrets-manager');
  const client = new sm.SecretsManagerClient({});
  const out = await client.send(new sm.GetSecretValueCommand({ SecretId: arn }));
  if (typeof out.SecretString !== 'string') throw new Error(`secret ${arn} has no SecretString`);
  return out.SecretString;
}

interface Credentials {
  readonly username?: string;
  readonly password: string;
}

function parseSecret(arn: string, value: string): Credentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { password: value }; // a bare password
  }
  const obj = parsed as Record<string, unknown>;
  const password = obj?.[DEFAULTS.celery.secretPasswordField];
  if (typeof password !== 'string' || password === '') {
    throw new Error(`secret ${arn} has no "${DEFAULTS.celery.secretPasswordField}" field`);
  }
  const username = obj[DEFAULTS.celery.secretUsernameField];
  return { username: typeof username === 'string' ? username : undefined, password };
}

/** Replaces every known secret value in a text, so that no message can carry one. */
function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

class ManagementApi {
  private readonly url: URL;
  private readonly auth: string;
  readonly secrets: string[];

  constructor(
    managementUrl: string,
    admin: Credentials,
    private readonly ca: string | undefined,
    private readonly timeoutMs: number,
    private readonly log: (line: string) => void,
    secrets: string[],
  ) {
    this.url = new URL(managementUrl);
    this.auth = 'Basic ' + Buffer.from(`${admin.username}:${admin.password}`).toString('base64');
    this.secrets = secrets;
  }

  /** Sends one request; resolves with the status, rejects with a redacted, explained error. */
  request(method: 'PUT' | 'DELETE', path: string, body?: object, okStatuses: readonly number[] = [200, 201, 204]): Promise<number> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<number>((resolve, reject) => {
      const fail = (reason: string) => reject(new Error(redact(`${method} ${path} failed: ${reason}`, this.secrets)));
      const req = https.request(
        {
          protocol: 'https:',
          hostname: this.url.hostname,
          port: this.url.port || 443,
          method,
          path,
          ca: this.ca,
          rejectUnauthorized: true,
          headers: {
            authorization: this.auth,
            'content-type': 'application/json',
            ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => fail(err.message));
          res.on('end', () => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            this.log(`${method} ${path} -> ${status}`);
            if (okStatuses.includes(status)) return resolve(status);
            const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
            const excerpt = text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}...` : text;
            const hint = status === 401 ? ' (the admin user name or password in AdminSecretArn was refused)' : '';
            fail(`the management API answered ${status} ${res.statusMessage ?? ''}${hint}: ${excerpt || '(empty body)'}`);
          });
        },
      );
      // One deadline for the whole exchange: a server that accepts and never answers must not hang the Lambda.
      const timer = setTimeout(() => req.destroy(new Error(`timed out after ${this.timeoutMs} ms (TimeoutMs)`)), this.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        fail(err.message);
      });
      req.end(payload);
    });
  }
}

const enc = encodeURIComponent;
const vhostPath = (v: string) => `/api/vhosts/${enc(v)}`;
const userPath = (u: string) => `/api/users/${enc(u)}`;
const permissionPath = (v: string, u: string) => `/api/permissions/${enc(v)}/${enc(u)}`;

function validate(props: RabbitMqUsersProperties | undefined): RabbitMqUsersProperties {
  if (!props) throw new Error('ResourceProperties are missing');
  let url: URL;
  try {
    url = new URL(props.ManagementUrl);
  } catch {
    throw new Error(`ManagementUrl ${JSON.stringify(props.ManagementUrl)} is not a URL: use https://host[:port]`);
  }
  if (url.protocol !== 'https:') {
    throw new Error(`ManagementUrl ${JSON.stringify(props.ManagementUrl)} is not allowed: the management API is reached over https:// only`);
  }
  if (typeof props.Vhost !== 'string' || props.Vhost === '') throw new Error('Vhost must be a non-empty string');
  if (!Array.isArray(props.Users)) throw new Error('Users must be a list');
  const names = new Set<string>();
  for (const u of props.Users) {
    if (typeof u?.Name !== 'string' || u.Name === '') throw new Error('every user needs a non-empty Name');
    if (names.has(u.Name)) throw new Error(`user ${JSON.stringify(u.Name)} is listed twice in Users`);
    names.add(u.Name);
  }
  return props;
}

function timeoutOf(props: RabbitMqUsersProperties): number {
  const t = props.TimeoutMs === undefined ? DEFAULTS.rabbitmq.managementApiTimeoutMs : Number(props.TimeoutMs);
  if (!Number.isFinite(t) || t <= 0) throw new Error(`TimeoutMs ${JSON.stringify(props.TimeoutMs)} must be a positive number`);
  return t;
}

/** Builds the handler with injectable secret access (tests) or the Secrets Manager default (Lambda). */
export function createHandler(deps: RabbitMqUsersDependencies = {}): (event: RabbitMqUsersEvent) => Promise<RabbitMqUsersResponse> {
  const getSecret = deps.getSecret ?? defaultGetSecret;
  const log = deps.log ?? ((line: string) => console.log(line));

  return async (event) => {
    const props = validate(event.ResourceProperties);
    const secrets: string[] = [];
    const adminArn = props.AdminSecretArn;
    const admin = parseSecret(adminArn, await getSecret(adminArn));
    secrets.push(admin.password);
    if (!admin.username) throw new Error(`secret ${adminArn} has no "${DEFAULTS.celery.secretUsernameField}" field`);
    if (props.Users.some((u) => u.Name === admin.username)) {
      throw new Error(`Users must not contain the admin user ${JSON.stringify(admin.username)}: application users are separate identities`);
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
      await remove(api, props.Vhost, props.Users.map((u) => u.Name));
      return response;
    }
    if (event.RequestType !== 'Create' && event.RequestType !== 'Update') {
      throw new Error(`RequestType ${JSON.stringify(event.RequestType)} is not Create, Update or Delete`);
    }

    const passwords = new Map<string, string>();
    for (const u of props.Users) {
      const { password } = parseSecret(u.PasswordSecretArn, await getSecret(u.PasswordSecretArn));
      secrets.push(password);
      passwords.set(u.Name, password);
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

/** PUTs vhost, users and permissions; on failure deletes what this invocation created (201), newest first. */
async function converge(api: ManagementApi, props: RabbitMqUsersProperties, passwords: Map<string, string>): Promise<void> {
  const created: string[] = [];
  const step = async (path: string, body: object) => {
    if ((await api.request('PUT', path, body)) === 201) created.push(path);
  };
  try {
    await step(vhostPath(props.Vhost), {});
    for (const u of props.Users) {
      await step(userPath(u.Name), { password: passwords.get(u.Name), tags: '' });
      await step(permissionPath(props.Vhost, u.Name), { configure: u.Configure, write: u.Write, read: u.Read });
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

/** Deletes users, then the vhost (which takes its permissions with it); 404 means already gone. */
async function remove(api: ManagementApi, vhost: string | undefined, users: readonly string[]): Promise<void> {
  for (const name of users) await api.request('DELETE', userPath(name), undefined, [200, 204, 404]);
  if (vhost !== undefined && vhost !== DEFAULT_VHOST) await api.request('DELETE', vhostPath(vhost), undefined, [200, 204, 404]);
}

/** The Lambda entry point (`index.onEvent`). */
export const onEvent = createHandler();
