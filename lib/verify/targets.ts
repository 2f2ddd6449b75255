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
    protocol: e.scheme === 'amqps' ? 'amqp' : 'redis',
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

/** `amqps://host:port` or `rediss://host:port` (port defaults 5671 / 6380); plaintext schemes are refused. */
export function targetFromUrl(url: string, o: TargetOverrides = {}): VerifyTarget {
  const m = /^(amqps|rediss):\/\/(\[[^\]]+\]|[^:/\s]+)(?::(\d+))?\/?$/.exec(url);
  if (!m) throw new Error(`--endpoint ${JSON.stringify(url)} is not amqps://HOST[:PORT] or rediss://HOST[:PORT]`);
  const scheme = m[1] as 'amqps' | 'rediss';
  const port = m[3] ? Number(m[3]) : scheme === 'amqps' ? 5671 : 6380;
  return fromEndpoint(
    `${scheme === 'amqps' ? 'broker' : 'redis'}`,
    { scheme, host: m[2].replace(/^\[|\]$/g, ''), port, engine: scheme === 'amqps' ? 'rabbitmq' : 'redis' },
    o,
  );
}
