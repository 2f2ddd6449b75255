/**
 * How to test your own CDK stack with celery-tls-constructs' helpers (run by `npm test` in this repository):
 * the encryption rules as one assertion or a jest matcher, and a snapshot that ignores asset hashes.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { CeleryEncryptionGuardError } from 'celery-tls-constructs/cdk';
import {
  ASSET_HASH_MASK,
  CeleryTlsMatchers,
  assertCeleryTransportEncrypted,
  celeryTlsMatchers,
  maskAssetHashes,
} from 'celery-tls-constructs/cdk/testing';
import { CeleryTlsExampleStack } from '../cdk/stack';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> extends CeleryTlsMatchers<R> {}
  }
}
expect.extend(celeryTlsMatchers);

// Your app and stack, as your bin/ file builds them.
const app = new App();
const stack = new CeleryTlsExampleStack(app, 'CeleryTlsExample');
const template = Template.fromStack(stack);

test('the Celery broker and result backend keep their encryption settings', () => {
  assertCeleryTransportEncrypted(template);
});

test('the same, as a jest matcher', () => {
  expect(template).toHaveEncryptedCeleryTransport();
});

test('the helpers catch a weakened template (what your test guards against)', () => {
  const weak = template.toJSON();
  const [id] = Object.entries<any>(weak.Resources).find(([, r]) => r.Type === 'AWS::ElastiCache::ReplicationGroup')!;
  weak.Resources[id].Properties.TransitEncryptionEnabled = false;
  expect(() => assertCeleryTransportEncrypted(weak)).toThrow(CeleryEncryptionGuardError);
  // Template.fromStack carries no construct paths: the helper names the logical id.
  expect(() => assertCeleryTransportEncrypted(weak)).toThrow(`${id}: TransitEncryptionEnabled is false`);
  expect(weak).not.toHaveEncryptedCeleryTransport();
});

test('a hand-written replication group is held to the same rules', () => {
  const other = new App();
  const s = new CeleryTlsExampleStack(other, 'WithLegacyCache');
  new elasticache.CfnReplicationGroup(s, 'LegacyCache', {
    replicationGroupDescription: 'legacy',
    engine: 'redis',
    cacheNodeType: 'cache.t4g.small',
    transitEncryptionEnabled: true,
  });
  // The example stack carries CeleryEncryptionGuard, so synthesis itself refuses it:
  expect(() => Template.fromStack(s)).toThrow(/WithLegacyCache\/LegacyCache: TransitEncryptionMode is not set/);
});

test('snapshot: the whole template, with asset hashes masked', () => {
  // Asset hashes change with every bundled file or aws-cdk-lib release; the infrastructure does not.
  const masked = maskAssetHashes(template.toJSON());
  expect(JSON.stringify(masked)).not.toMatch(/[0-9a-f]{64}/);
  expect(JSON.stringify(masked)).toContain(ASSET_HASH_MASK);
  expect(masked).toMatchSnapshot();
});
