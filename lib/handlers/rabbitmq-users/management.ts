/**
 * The RabbitMQ management HTTP API client shared by the custom resource and the rotation function: HTTPS only,
 * certificate verification on, one deadline per request, and every known secret redacted from errors and logs.
 * @see https://www.rabbitmq.com/docs/http-api-reference
 */
import * as https from 'node:https';
import { redact } from '../shared/rotation';
import { WIRE } from '../../core/wire';

// Enough of the management API's answer to explain a failure, without flooding CloudFormation's event log.
const BODY_EXCERPT_CHARS = 300;

export async function defaultGetSecret(arn: string): Promise<string> {
  // Lazy: the SDK ships in the Lambda Node.js runtime, and tests inject getSecret instead of loading it.
  const sm = require('@aws-sdk/client-secrets-manager');
  // A VPC endpoint without private DNS is reached by its own DNS name (set by the construct); else the regional name.
  const endpoint = process.env.SECRETS_MANAGER_ENDPOINT;
  const client = new sm.SecretsManagerClient(endpoint ? { endpoint } : {});
  const out = await client.send(new sm.GetSecretValueCommand({ SecretId: arn }));
  if (typeof out.SecretString !== 'string') throw new Error(`secret ${arn} has no SecretString`);
  return out.SecretString;
}

export interface Credentials {
  readonly username?: string;
  readonly password: string;
}

export function parseSecret(arn: string, value: string): Credentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { password: value }; // a bare password
  }
  const obj = parsed as Record<string, unknown>;
  const password = obj?.[WIRE.secretPasswordField];
  if (typeof password !== 'string' || password === '') {
    throw new Error(`secret ${arn} has no "${WIRE.secretPasswordField}" field`);
  }
  const username = obj[WIRE.secretUsernameField];
  return { username: typeof username === 'string' ? username : undefined, password };
}

export class ManagementApi {
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
  async request(
    method: 'PUT' | 'DELETE',
    path: string,
    body?: object,
    okStatuses: readonly number[] = [200, 201, 204],
  ): Promise<number> {
    return (await this.exchange(method, path, body, okStatuses)).status;
  }

  /** GETs a JSON document; undefined on 404. */
  async get(path: string): Promise<unknown> {
    const { status, text } = await this.exchange('GET', path, undefined, [200, 404]);
    return status === 404 ? undefined : JSON.parse(text);
  }

  private exchange(
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    body: object | undefined,
    okStatuses: readonly number[],
  ): Promise<{ status: number; text: string }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
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
          // A connection per request: Node's global agent keeps sockets alive (Node >= 19), and a socket the broker
          // closed while idle, reused by the next request or the next invocation of a warm function, ends in "socket
          // hang up" (seen twice in the current-stack suite, under load; not reproduced alone).
          agent: false,
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
            const raw = Buffer.concat(chunks).toString('utf8');
            if (okStatuses.includes(status)) return resolve({ status, text: raw });
            const text = raw.replace(/\s+/g, ' ').trim();
            const excerpt = text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}...` : text;
            const hint = status === 401 ? ' (the admin user name or password in AdminSecretArn was refused)' : '';
            fail(
              `the management API answered ${status} ${res.statusMessage ?? ''}${hint}: ${excerpt || '(empty body)'}`,
            );
          });
        },
      );
      // One deadline for the whole exchange: a server that accepts and never answers must not hang the Lambda.
      const timer = setTimeout(
        () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms (TimeoutMs)`)),
        this.timeoutMs,
      );
      req.on('error', (err) => {
        clearTimeout(timer);
        fail(err.message);
      });
      req.end(payload);
    });
  }
}

const enc = encodeURIComponent;
export const vhostPath = (v: string) => `/api/vhosts/${enc(v)}`;
export const userPath = (u: string) => `/api/users/${enc(u)}`;
export const permissionPath = (v: string, u: string) => `/api/permissions/${enc(v)}/${enc(u)}`;
export const userPermissionsPath = (u: string) => `/api/users/${enc(u)}/permissions`;
export const exchangePath = (v: string, x: string) => `/api/exchanges/${enc(v)}/${enc(x)}`;
