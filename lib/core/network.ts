import { NetworkRole } from './types';

/** One TCP ingress rule between two roles. The egress rule on the source mirrors it. */
export interface IngressRuleModel {
  readonly from: NetworkRole;
  readonly to: NetworkRole;
  readonly port: number;
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

export function ruleDescription(from: string, to: NetworkRole, port: number, protocol: string): string {
  return `${from} to ${LABEL[to]} on ${port}/tcp (${protocol})`;
}

/**
 * The segmentation of a Celery deployment: producers and workers reach the broker and the result backend on their
 * TLS ports, nothing else. Producers read results too (AsyncResult.get), so both reach the backend.
 */
export function celeryIngressRules(args: {
  brokerPort: number;
  brokerProtocol: string;
  backendPort?: number;
}): IngressRuleModel[] {
  const rules: IngressRuleModel[] = [];
  for (const from of [NetworkRole.PRODUCERS, NetworkRole.WORKERS]) {
    rules.push({ from, to: NetworkRole.BROKER, port: args.brokerPort, description: ruleDescription(LABEL[from], NetworkRole.BROKER, args.brokerPort, args.brokerProtocol) });
    if (args.backendPort !== undefined) {
      rules.push({ from, to: NetworkRole.RESULT_BACKEND, port: args.backendPort, description: ruleDescription(LABEL[from], NetworkRole.RESULT_BACKEND, args.backendPort, 'Redis over TLS') });
    }
  }
  return rules;
}
