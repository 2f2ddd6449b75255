import { CeleryConfig, CeleryEndpoint } from '../index';
import { VerifyTarget } from './verify';

export interface TargetOverrides {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly mutualTls?: boolean;
  readonly plaintextPorts?: readonly number[];
}

function fromEndpoint(name: string, e: CeleryEndpoint, o: TargetOverrides): VerifyTarget {
  const certFile = o.certFile ?? e.certFile;
  return {
    name,
    host: e.host,
    port: Number(e.port),
    protocol: e.scheme === 'amqps' ? 'amqp' : e.scheme === 'postgresql' ? 'postgres' : 'redis',
    caFile: o.caFile ?? e.caCerts,
    certFile,
    keyFile: o.keyFile ?? e.keyFile,
    mutualTls: o.mutualTls ?? certFile !== undefined,
    plaintextPorts: o.plaintextPorts,
  };
}

/** The broker and result backend of a manifest. */
export function targetsFromConfig(config: CeleryConfig, o: TargetOverrides = {}): VerifyTarget[] {
  const m = config.model;
  return [
    fromEndpoint('broker', m.broker, o),
    ...(m.resultBackend ? [fromEndpoint('resultBackend', m.resultBackend, o)] : []),
  ];
}

const URL_SCHEMES = {
  amqps: { scheme: 'amqps', port: 5671, name: 'broker', engine: 'rabbitmq' },
  rediss: { scheme: 'rediss', port: 6380, name: 'redis', engine: 'redis' },
  // libpq's sslmode=verify-full spelled as a URL for --endpoint: the TLS checks run after an SSLRequest.
  postgresql: { scheme: 'postgresql', port: 5432, name: 'postgres', engine: 'postgresql' },
} as const;

/**
 * `amqps://host:port`, `rediss://host:port` or `postgresql://host:port` (port defaults 5671 / 6380 / 5432);
 * plaintext schemes are refused.
 */
export function targetFromUrl(url: string, o: TargetOverrides = {}): VerifyTarget {
  const m = /^(amqps|rediss|postgresql):\/\/(\[[^\]]+\]|[^:/\s]+)(?::(\d+))?\/?$/.exec(url);
  if (!m)
    throw new Error(
      `--endpoint ${JSON.stringify(url)} is not amqps://HOST[:PORT], rediss://HOST[:PORT] or postgresql://HOST[:PORT]`,
    );
  const kind = URL_SCHEMES[m[1] as keyof typeof URL_SCHEMES];
  return fromEndpoint(
    kind.name,
    {
      scheme: kind.scheme,
      host: m[2].replace(/^\[|\]$/g, ''),
      port: m[3] ? Number(m[3]) : kind.port,
      engine: kind.engine,
    },
    o,
  );
}
