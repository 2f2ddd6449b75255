/**
 * docs/operating.md is the runbook the alarms point to: every anchor an alarm description names exists there, and
 * every alarm key is in its table with its default threshold.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../../lib/core';
import { planAlarms, resolveMonitoringSpec } from '../../lib/core/monitoring';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'operating.md'), 'utf8');
const anchors = new Set([...doc.matchAll(/<a id="([a-z-]+)"><\/a>/g)].map((m) => m[1]));
const spec = resolveMonitoringSpec({}, { isUnresolved: () => false }).value;
const alarms = planAlarms(
  spec,
  [
    { kind: 'rabbitmq', label: 'Broker', brokerName: 'b', vhost: 'celery', queue: 'celery' },
    { kind: 'cache', label: 'ResultBackend', replicationGroupId: 'g', nodes: 2 },
    { kind: 'postgres', label: 'ResultBackend', database: 'instance', instances: ['db'], storage: true },
  ],
  { endpoints: ['broker', 'resultBackend'], certificateSecretNames: ['s'] },
);

test('every alarm of the library is planned here (one per key at least)', () => {
  expect(new Set(alarms.map((a) => a.key))).toEqual(new Set(Object.keys(DEFAULTS.monitoring.alarms)));
});

test.each(alarms.map((a) => [a.id, a] as const))('%s names a runbook section that exists', (_id, a) => {
  const anchor = /docs\/operating\.md#([a-z-]+)/.exec(a.description)?.[1];
  expect(anchor).toBeDefined();
  expect(anchors).toContain(anchor);
});

test.each(Object.entries(DEFAULTS.monitoring.alarms))('%s is in the table of docs/operating.md', (key, d) => {
  const row = doc.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
  expect(row).toBeDefined();
  // The last cell opens with the comparison and the default threshold, e.g. "> 80 %" or "< 30 days".
  const firesWhen = row!.split(' | ').at(-1)!;
  expect(firesWhen).toMatch(new RegExp(`^[<>] ${d.threshold}(\\b|\\s|$)`));
});

test('the check can fail: an unknown anchor is not in the document', () => {
  expect(anchors).not.toContain('no-such-section');
});
