import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IssuedCertificate } from '../../lib/dev/pki';
import { passwordHash } from '../../lib/dev/rabbitmq-server';

/** The broker admin of the stand-in; its password is distinctive so that a leak is found by substring search. */
export const ADMIN = { username: 'admin', password: 'AdminPassw0rdNeverShown' };

interface Permission {
  configure: string;
  write: string;
  read: string;
}

/** In-memory stand-in for the RabbitMQ management HTTP API, with the real API's status codes. */
export class FakeManagementApi {
  vhosts = new Set<string>(['/']);
  /** The body of the last PUT of each vhost (its metadata, e.g. default_queue_type). */
  vhostBodies = new Map<string, unknown>();
  users = new Map<string, string>([[ADMIN.username, ADMIN.password]]);
  tags = new Map<string, string>([[ADMIN.username, 'administrator']]);
  permissions = new Map<string, Permission>(); // key: vhost \0 user
  /** Queues, policies and exchanges by vhost \0 name: the bodies they were PUT with. */
  queues = new Map<string, any>();
  policies = new Map<string, any>();
  exchanges = new Map<string, any>();
  requests: string[] = [];
  /** Status to answer instead, by 1-based request number (counted after authentication). */
  failOn = new Map<number, number>();
  hang = false;
  private server?: https.Server;

  constructor(private readonly tls: IssuedCertificate) {}

  async start(): Promise<string> {
    this.server = https.createServer({ cert: this.tls.certPem, key: this.tls.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        this.handle(req.method ?? '', req.url ?? '', req.headers.authorization, Buffer.concat(chunks).toString(), res),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `https://localhost:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private handle(
    method: string,
    url: string,
    auth: string | undefined,
    body: string,
    res: import('node:http').ServerResponse,
  ) {
    if (this.hang) return; // accept, never answer
    const send = (status: number, payload?: object) => {
      res.writeHead(status, payload ? { 'content-type': 'application/json' } : {});
      res.end(payload ? JSON.stringify(payload) : undefined);
    };
    // Basic authentication of any user tagged administrator, against its current password.
    const [user, ...rest] = Buffer.from((auth ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    if (this.users.get(user) !== rest.join(':') || !this.tags.get(user)?.split(',').includes('administrator')) {
      return send(401, { error: 'not_authorized', reason: 'Login failed' });
    }
    this.requests.push(`${method} ${url}`);
    const injected = this.failOn.get(this.requests.length);
    // Echoes the request body, as a careless proxy might: the handler must still never show a password.
    if (injected) return send(injected, { error: 'internal_error', reason: `boom while handling ${body}` });

    const parts = url.split('/').slice(2).map(decodeURIComponent); // ['vhosts', v] | ['users', u] | ['permissions', v, u]
    const json = body ? JSON.parse(body) : {};
    const put = <K>(map: Set<K> | Map<K, unknown>, key: K, value?: unknown) => {
      const existed = map.has(key);
      if (map instanceof Set) map.add(key);
      else map.set(key, value);
      send(existed ? 204 : 201);
    };
    const del = <K>(map: Set<K> | Map<K, unknown>, key: K) =>
      map.delete(key) ? send(204) : send(404, { error: 'Object Not Found', reason: 'Not Found' });

    if (parts[0] === 'vhosts' && parts.length === 2) {
      if (method === 'PUT') {
        this.vhostBodies.set(parts[1], json);
        return put(this.vhosts, parts[1]);
      }
      if (method === 'DELETE') {
        for (const k of [...this.permissions.keys()]) if (k.startsWith(`${parts[1]}\0`)) this.permissions.delete(k);
        return del(this.vhosts, parts[1]);
      }
    }
    if (parts[0] === 'users' && parts.length === 3 && parts[2] === 'permissions' && method === 'GET') {
      if (!this.users.has(parts[1])) return send(404, { error: 'Object Not Found', reason: 'Not Found' });
      return send(
        200,
        [...this.permissions]
          .filter(([k]) => k.endsWith(`\0${parts[1]}`))
          .map(([k, v]) => ({ user: parts[1], vhost: k.split('\0')[0], ...v })),
      );
    }
    if (parts[0] === 'users' && parts.length === 2) {
      if (method === 'GET') {
        const password = this.users.get(parts[1]);
        if (password === undefined) return send(404, { error: 'Object Not Found', reason: 'Not Found' });
        return send(200, {
          name: parts[1],
          password_hash: passwordHash(password),
          hashing_algorithm: 'rabbit_password_hashing_sha256',
          tags: (this.tags.get(parts[1]) ?? '').split(',').filter(Boolean),
        });
      }
      if (method === 'PUT') {
        this.tags.set(parts[1], Array.isArray(json.tags) ? json.tags.join(',') : (json.tags ?? ''));
        return put(this.users, parts[1], json.password);
      }
      if (method === 'DELETE') {
        for (const k of [...this.permissions.keys()]) if (k.endsWith(`\0${parts[1]}`)) this.permissions.delete(k);
        return del(this.users, parts[1]);
      }
    }
    const named: Record<string, Map<string, any>> = {
      queues: this.queues,
      policies: this.policies,
      exchanges: this.exchanges,
    };
    if (named[parts[0]] && parts.length === 3) {
      const map = named[parts[0]];
      const key = `${parts[1]}\0${parts[2]}`;
      if (!this.vhosts.has(parts[1])) return send(404, { error: 'Object Not Found', reason: 'vhost not found' });
      if (method === 'GET')
        return map.has(key)
          ? send(200, { name: parts[2], vhost: parts[1], ...map.get(key) })
          : send(404, { error: 'Object Not Found', reason: 'Not Found' });
      if (method === 'PUT') return put(map, key, json);
      if (method === 'DELETE') return del(map, key);
    }
    if (parts[0] === 'permissions' && parts.length === 3) {
      const key = `${parts[1]}\0${parts[2]}`;
      if (method === 'PUT') {
        if (!this.vhosts.has(parts[1]) || !this.users.has(parts[2]))
          return send(400, { error: 'bad_request', reason: 'vhost_or_user_not_found' });
        return put(this.permissions, key, { configure: json.configure, write: json.write, read: json.read });
      }
      if (method === 'DELETE') return del(this.permissions, key);
    }
    send(405, { error: 'method_not_allowed' });
  }

  /** Everything except the broker's own admin and default vhost. */
  state() {
    return {
      vhosts: [...this.vhosts].filter((v) => v !== '/').sort(),
      users: [...this.users.keys()].filter((u) => u !== ADMIN.username).sort(),
      permissions: Object.fromEntries([...this.permissions].map(([k, v]) => [k.replace('\0', ' '), v])),
    };
  }
}
