import type { TlsScheme } from './celery/model';
import { NetworkRole } from './types';

/** One TCP ingress rule between two roles. The egress rule on the source mirrors it. */
export interface IngressRuleModel {
  readonly from: NetworkRole;
  readonly to: NetworkRole;
  readonly port: number;
  /** What runs over the port, for descriptions (e.g. "AMQPS"). */
  readonly protocol: string;
  readonly description: string;
}

export const SECURITY_GROUP_DESCRIPTIONS: Record<NetworkRole, string> = {
  [NetworkRole.PRODUCERS]: 'Celery producers: may reach the broker and the result backend on their TLS ports only',
  [NetworkRole.WORKERS]: 'Celery workers: may reach the broker and the result backend on their TLS ports only',
  [NetworkRole.BROKER]: 'Celery broker: accepts TLS connections from Celery producers and workers only',
  [NetworkRole.RESULT_BACKEND]: 'Celery result backend: accepts TLS connections from Celery producers and workers only',
};

const LABEL: Record<NetworkRole, string> = {
  [NetworkRole.PRODUCERS]: 'Celery producers',
  [NetworkRole.WORKERS]: 'Celery workers',
  [NetworkRole.BROKER]: 'broker',
  [NetworkRole.RESULT_BACKEND]: 'result backend',
};

const PROTOCOL: Record<TlsScheme, string> = {
  amqps: 'AMQPS',
  rediss: 'Redis over TLS',
  postgresql: 'PostgreSQL over TLS',
};

/** A rule's description; adapters use it with their own source label for peers added later. */
export function ruleDescription(from: string, rule: Pick<IngressRuleModel, 'to' | 'port' | 'protocol'>): string {
  return `${from} to ${LABEL[rule.to]} on ${rule.port}/tcp (${rule.protocol})`;
}

/**
 * The segmentation of a Celery deployment: producers and workers reach the broker and the result backend on their
 * TLS ports, nothing else. Producers read results too (AsyncResult.get), so both reach the backend.
 */
export function celeryIngressRules(args: {
  brokerScheme: TlsScheme;
  brokerPort: number;
  /** Undefined without a result backend, or when the backend shares the broker's cache. */
  backendPort?: number;
  /** The result backend's scheme. @default "rediss" */
  backendScheme?: TlsScheme;
}): IngressRuleModel[] {
  const rules: IngressRuleModel[] = [];
  const rule = (from: NetworkRole, to: NetworkRole, port: number, protocol: string): IngressRuleModel => ({
    from,
    to,
    port,
    protocol,
    description: ruleDescription(LABEL[from], { to, port, protocol }),
  });
  for (const from of [NetworkRole.PRODUCERS, NetworkRole.WORKERS]) {
    rules.push(rule(from, NetworkRole.BROKER, args.brokerPort, PROTOCOL[args.brokerScheme]));
    if (args.backendPort !== undefined)
      rules.push(rule(from, NetworkRole.RESULT_BACKEND, args.backendPort, PROTOCOL[args.backendScheme ?? 'rediss']));
  }
  return rules;
}
