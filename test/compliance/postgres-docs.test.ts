import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { compliancePacks } from '../../examples/cdk/compliance';
import { CeleryBroker, CeleryResultBackend, CeleryTransport } from '../../lib/cdk';

/**
 * docs/compliance.md, "A PostgreSQL result backend", against the findings of the four packs on the backend's subtree:
 * the ones test/compliance/postgres.test.ts acknowledges (it asserts that they are exactly its acknowledgements), so a
 * row missing or stale here fails. Built the same way as there: a Redis broker, the backend of each kind.
 */

const ROOT = join(__dirname, '..', '..');
const DB = 'Celery/ResultBackend';
const HEADING = 'A PostgreSQL result backend';
type Kind = 'instance' | 'aurora';

function findings(kind: Kind): string[] {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), `celery-tls-pg-docs-${kind}-`)) });
  const stack = new Stack(app, 'Pg', { env: { account: '111122223333', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
    natGateways: 0,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
  new CeleryTransport(stack, 'Celery', {
    vpc,
    broker: CeleryBroker.redis(),
    resultBackend: CeleryResultBackend.postgres({ kind }),
  });
  app.synth();
  const found = compliancePacks().flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${pack.name} | ${v.ruleName} | ${String(r.constructPath).replace('Pg/', '')}`),
      ),
  );
  return [...new Set(found.filter((f) => f.split(' | ')[2].startsWith(`${DB}/`)))].sort();
}

/** The section's table: [database, pack, rule, resource, reason] per row. */
function rows(doc: string): string[][] {
  const section = doc.split(/^## /m).find((s) => s.startsWith(HEADING));
  if (!section) throw new Error(`docs/compliance.md has no "## ${HEADING}" section`);
  return section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .slice(1)
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim().replace(/^`|`$/g, '')),
    );
}

/** The rows of one kind as `pack | rule | resource` (`both` counts for each). */
function listed(table: string[][], kind: Kind): string[] {
  const name = kind === 'aurora' ? 'Aurora' : 'instance';
  return table
    .filter(([database]) => database === name || database === 'both')
    .map(([, pack, id, path]) => `${pack} | ${id} | ${path}`)
    .sort();
}

describe(`docs/compliance.md, "${HEADING}"`, () => {
  const table = rows(readFileSync(join(ROOT, 'docs/compliance.md'), 'utf8'));

  test('every row names its database, pack and rule, and carries a reason', () => {
    expect(table.length).toBeGreaterThan(0);
    for (const [database, pack, id, path, reason] of table) {
      expect(['instance', 'Aurora', 'both']).toContain(database);
      expect(id.startsWith(`${pack}-`)).toBe(true);
      expect(path.startsWith(`${DB}/`)).toBe(true);
      expect(reason.length).toBeGreaterThan(80);
    }
    expect(new Set(table.map(([d, p, i, r]) => `${d} ${p} ${i} ${r}`)).size).toBe(table.length);
  });

  test.each(['instance', 'aurora'] as const)(
    'lists exactly the findings on the backend (%s): none missing, none stale',
    (kind) => {
      expect(listed(table, kind)).toEqual(findings(kind));
    },
  );
});
