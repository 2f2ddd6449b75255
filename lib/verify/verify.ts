import { readFileSync } from 'node:fs';
import { Socket, connect as netConnect, isIP } from 'node:net';
import { PeerCertificate, TLSSocket, checkServerIdentity, connect as tlsConnect } from 'node:tls';

export type CheckStatus = 'pass' | 'fail' | 'warn';

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

/** One endpoint to audit. */
export interface VerifyTarget {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /**
   * Protocol spoken inside TLS, for the plaintext and client-certificate probes. "postgres" starts TLS inside the
   * protocol (SSLRequest, then the handshake), and its plaintext probe is a startup message.
   */
  readonly protocol: 'amqp' | 'redis' | 'postgres';
  /** CA bundle (PEM file). @default - Node's root store */
  readonly caFile?: string;
  /** Client certificate and key (PEM files) for mutual TLS. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Expect the server to refuse clients without a certificate. */
  readonly mutualTls?: boolean;
  /** More ports on the same host that must not answer in plaintext (e.g. 5672, 6379). */
  readonly plaintextPorts?: readonly number[];
}

export interface VerifyOptions {
  /** Warn when the server certificate expires within this many days. @default 30 */
  readonly expiryWarnDays?: number;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

export interface EndpointReport {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly checks: CheckResult[];
}

interface HandshakeOutcome {
  readonly socket?: TLSSocket;
  readonly error?: Error & { code?: string };
}

const PROBES: Record<VerifyTarget['protocol'], Buffer> = {
  // AMQP 0-9-1 protocol header: a plaintext broker answers with Connection.Start.
  amqp: Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'),
  redis: Buffer.from('PING\r\n'),
  // PostgreSQL StartupMessage, protocol 3.0: a server that serves plaintext asks for authentication ('R').
  postgres: startupMessage({ user: 'celery_tls_verify', database: 'postgres' }),
};

function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.concat([
    ...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\0${v}\0`, 'utf8')),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4); // 3.0
  return Buffer.concat([head, body]);
}

/** PostgreSQL's SSLRequest (protocol.sgml): length 8, code 80877103; the server answers 'S' or 'N'. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** A PostgreSQL ErrorResponse's message field ('M'), for reports. */
function postgresError(data: Buffer): string {
  const fields = data.subarray(5).toString('utf8').split('\0');
  return fields.find((f) => f.startsWith('M'))?.slice(1) ?? '';
}

/** Does the reply look like the protocol spoken in the clear (rather than a TLS alert or nothing)? */
function plaintextAnswer(protocol: VerifyTarget['protocol'], data: Buffer): boolean {
  if (data.length === 0) return false;
  if (protocol === 'amqp') return data.subarray(0, 4).toString('latin1') === 'AMQP' || data[0] === 0x01;
  if (protocol === 'postgres') {
    // 'R': it would authenticate a plaintext session. 'E' that is not the refusal of an unencrypted connection
    // (e.g. "role does not exist" under trust) also means the plaintext session got that far.
    if (data[0] === 0x52) return true;
    return data[0] === 0x45 && !/no encryption|SSL off|pg_hba\.conf/.test(postgresError(data));
  }
  return '+-:$*'.includes(String.fromCharCode(data[0]));
}

function handshake(
  t: VerifyTarget,
  opts: Required<VerifyOptions>,
  extra: {
    minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';
    maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.3';
    ciphers?: string;
    withClientCert?: boolean;
  },
): Promise<HandshakeOutcome> {
  if (t.protocol === 'postgres') return postgresHandshake(t, opts, extra);
  return tlsHandshake(t, opts, extra);
}

/** SSLRequest in the clear; on 'S' the TLS handshake on the same connection. */
async function postgresHandshake(
  t: VerifyTarget,
  opts: Required<VerifyOptions>,
  extra: Parameters<typeof handshake>[2],
): Promise<HandshakeOutcome> {
  const c = await plainConnect(t.host, t.port, opts.timeoutMs);
  if (!c.socket) return { error: c.error };
  const plain = c.socket;
  const answer = await new Promise<Buffer | Error>((resolve) => {
    const timer = setTimeout(
      () => resolve(new Error(`no answer to SSLRequest within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    plain.once('data', (d: Buffer) => {
      clearTimeout(timer);
      resolve(d);
    });
    plain.once('error', (e) => {
      clearTimeout(timer);
      resolve(e);
    });
    plain.write(SSL_REQUEST);
  });
  if (answer instanceof Error) {
    plain.destroy();
    return { error: answer };
  }
  if (answer[0] !== 0x53) {
    plain.destroy();
    return {
      error: Object.assign(
        new Error(`the server declined TLS (answered ${JSON.stringify(String.fromCharCode(answer[0]))} to SSLRequest)`),
        { code: 'ENOTLS' },
      ),
    };
  }
  return tlsHandshake(t, opts, extra, plain);
}

function tlsHandshake(
  t: VerifyTarget,
  opts: Required<VerifyOptions>,
  extra: Parameters<typeof handshake>[2],
  over?: Socket,
): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      ...(over ? { socket: over } : {}),
      host: t.host,
      port: t.port,
      servername: isIP(t.host) ? undefined : t.host,
      ca: t.caFile ? readFileSync(t.caFile) : undefined,
      cert: extra.withClientCert !== false && t.certFile ? readFileSync(t.certFile) : undefined,
      key: extra.withClientCert !== false && t.keyFile ? readFileSync(t.keyFile) : undefined,
      // Verification is judged below, check by check, so that every failure is reported rather than the first one.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      minVersion: extra.minVersion ?? 'TLSv1.2',
      maxVersion: extra.maxVersion ?? 'TLSv1.3',
      ciphers: extra.ciphers,
      timeout: opts.timeoutMs,
    });
    const done = (o: HandshakeOutcome) => {
      socket.removeAllListeners('timeout');
      resolve(o);
    };
    socket.once('secureConnect', () => done({ socket }));
    socket.once('error', (error) => done({ error }));
    socket.once('timeout', () => {
      socket.destroy();
      done({ error: Object.assign(new Error(`no TLS handshake within ${opts.timeoutMs} ms`), { code: 'ETIMEDOUT' }) });
    });
  });
}

/** Sends the protocol probe and collects what comes back until close, error or the timeout. */
function probe(
  socket: Socket | TLSSocket,
  protocol: VerifyTarget['protocol'],
  timeoutMs: number,
): Promise<{ data: Buffer; error?: Error & { code?: string } }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), error });
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const data = Buffer.concat(chunks);
      // A PostgreSQL message is a type byte and a length: wait for the whole first one.
      const enough =
        protocol === 'postgres' ? data.length >= 5 && data.length >= 1 + data.readInt32BE(1) : data.length >= 4;
      if (enough) finish();
    });
    socket.once('error', (e) => finish(e));
    socket.once('close', () => finish());
    socket.write(PROBES[protocol]);
  });
}

function plainConnect(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{ socket?: Socket; error?: Error & { code?: string } }> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve({ socket });
    });
    socket.once('error', (error) => resolve({ error }));
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ error: Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }) });
    });
  });
}

const pass = (id: string, title: string, detail: string): CheckResult => ({ id, title, status: 'pass', detail });
const fail = (id: string, title: string, detail: string): CheckResult => ({ id, title, status: 'fail', detail });
/** One line: the error code and OpenSSL's reason (not its whole error stack). */
const describe = (e?: Error & { code?: string; reason?: string }) =>
  e ? `${e.code ? `${e.code}: ` : ''}${e.reason ?? e.message.split('\n')[0]}` : 'unknown error';

export async function verifyEndpoint(t: VerifyTarget, options: VerifyOptions = {}): Promise<EndpointReport> {
  const opts: Required<VerifyOptions> = {
    expiryWarnDays: options.expiryWarnDays ?? 30,
    timeoutMs: options.timeoutMs ?? 5000,
  };
  const checks: CheckResult[] = [];
  const main = await handshake(t, opts, {});
  if (!main.socket) {
    checks.push(fail('handshake', 'TLS handshake (TLS 1.2+)', describe(main.error)));
  } else {
    const s = main.socket;
    const cert = s.getPeerCertificate(true) as PeerCertificate;
    const protocol = s.getProtocol() ?? 'unknown';
    checks.push(pass('handshake', 'TLS handshake (TLS 1.2+)', `${protocol} ${s.getCipher()?.name ?? ''}`.trim()));
    checks.push(
      s.authorized
        ? pass(
            'chain',
            'Certificate chain',
            `issued by ${cert.issuer?.CN ?? '?'}, trusted by ${t.caFile ?? "Node's root store"}`,
          )
        : fail('chain', 'Certificate chain', `${String(s.authorizationError)} (issuer ${cert.issuer?.CN ?? '?'})`),
    );
    const identity = checkServerIdentity(t.host, cert);
    checks.push(
      identity
        ? fail('hostname', 'Hostname matches certificate', identity.message)
        : pass(
            'hostname',
            'Hostname matches certificate',
            `${t.host} in ${cert.subjectaltname ?? `CN=${cert.subject?.CN}`}`,
          ),
    );
    checks.push(
      ['TLSv1.2', 'TLSv1.3'].includes(protocol)
        ? pass('protocol', 'Negotiated protocol >= TLS 1.2', protocol)
        : fail('protocol', 'Negotiated protocol >= TLS 1.2', protocol),
    );
    const days = Math.floor((new Date(cert.valid_to).getTime() - Date.now()) / 86_400_000);
    const expiry = `${days} days left (until ${new Date(cert.valid_to).toISOString()})`;
    checks.push(
      days < 0
        ? fail('expiry', 'Certificate expiry', `expired ${-days} days ago (${cert.valid_to})`)
        : days < opts.expiryWarnDays
          ? {
              id: 'expiry',
              title: 'Certificate expiry',
              status: 'warn',
              detail: `${expiry}: under ${opts.expiryWarnDays} days`,
            }
          : pass('expiry', 'Certificate expiry', expiry),
    );
    s.destroy();
  }

  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    const label = version === 'TLSv1' ? 'TLS 1.0' : 'TLS 1.1';
    // SECLEVEL=0 lets this client offer the old protocol at all; otherwise "refused" would prove nothing.
    const old = await handshake(t, opts, {
      minVersion: version,
      maxVersion: version,
      ciphers: 'DEFAULT:@SECLEVEL=0',
      withClientCert: true,
    });
    if (old.socket) {
      checks.push(fail(`refuses-${version}`, `${label} refused`, `the server accepted ${old.socket.getProtocol()}`));
      old.socket.destroy();
    } else {
      checks.push(pass(`refuses-${version}`, `${label} refused`, describe(old.error)));
    }
  }

  for (const port of [t.port, ...(t.plaintextPorts ?? []).filter((p) => p !== t.port)]) {
    const title = `No plaintext answer on ${port}`;
    const c = await plainConnect(t.host, port, opts.timeoutMs);
    if (!c.socket) {
      checks.push(pass(`plaintext-${port}`, title, `closed (${describe(c.error)})`));
      continue;
    }
    const r = await probe(c.socket, t.protocol, Math.min(opts.timeoutMs, 2000));
    const refusal = t.protocol === 'postgres' && r.data[0] === 0x45 ? postgresError(r.data) : undefined;
    checks.push(
      plaintextAnswer(t.protocol, r.data)
        ? fail(
            `plaintext-${port}`,
            title,
            `answered ${JSON.stringify((refusal ?? r.data.subarray(0, 24).toString('latin1')).slice(0, 120))} to a plaintext ${t.protocol} request`,
          )
        : pass(
            `plaintext-${port}`,
            title,
            refusal
              ? `plaintext session refused: ${refusal.slice(0, 120)}`
              : r.data.length
                ? `no ${t.protocol} answer (${r.data[0] === 0x15 ? 'TLS alert' : `${r.data.length} non-${t.protocol} bytes`})`
                : 'no answer',
          ),
    );
  }

  if (t.mutualTls) {
    const title = 'Client certificate required';
    const anonymous = await handshake(t, opts, { withClientCert: false });
    if (!anonymous.socket) {
      checks.push(pass('client-cert', title, `handshake without a certificate refused (${describe(anonymous.error)})`));
    } else {
      // With TLS 1.3 the server judges the client certificate after the handshake: a request shows the verdict.
      const r = await probe(anonymous.socket, t.protocol, Math.min(opts.timeoutMs, 2000));
      checks.push(
        plaintextAnswer(t.protocol, r.data)
          ? fail('client-cert', title, 'the server served a client that sent no certificate')
          : pass(
              'client-cert',
              title,
              `a client without a certificate was cut off (${r.error ? describe(r.error) : 'closed'})`,
            ),
      );
    }
  }
  return { name: t.name, host: t.host, port: t.port, checks };
}

export function reportOk(reports: readonly EndpointReport[]): boolean {
  return reports.every((r) => r.checks.every((c) => c.status !== 'fail'));
}

/** A readable table. */
export function formatReports(reports: readonly EndpointReport[]): string {
  const rows = reports.flatMap((r) =>
    r.checks.map((c) => [`${r.name} ${r.host}:${r.port}`, c.title, c.status.toUpperCase(), c.detail]),
  );
  const header = ['ENDPOINT', 'CHECK', 'RESULT', 'DETAIL'];
  const widths = [0, 1, 2].map((i) => Math.max(header[i].length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ');
  const failed = rows.filter((r) => r[2] === 'FAIL').length;
  const warned = rows.filter((r) => r[2] === 'WARN').length;
  return (
    [
      line(header),
      ...rows.map(line),
      '',
      `Summary: ${rows.length - failed - warned} checks pass, ${failed} fail, ${warned} warn`,
    ].join('\n') + '\n'
  );
}
