import { randomUUID } from 'node:crypto';
import type { RotationSecrets } from '../../lib/handlers/shared/rotation';

/** An in-memory Secrets Manager with versions and staging labels, as rotation sees it. */
export class FakeSecrets implements RotationSecrets {
  readonly versions = new Map<string, Map<string, { value: string; stages: string[] }>>();
  rotationEnabled = true;
  generated: string[] = [];
  private counter = 0;

  create(arn: string, value: object): void {
    this.versions.set(arn, new Map([[randomUUID(), { value: JSON.stringify(value), stages: ['AWSCURRENT'] }]]));
  }

  current(arn: string): { username: string; password: string } {
    return JSON.parse([...this.versions.get(arn)!.values()].find((v) => v.stages.includes('AWSCURRENT'))!.value);
  }

  async get(arn: string, select: { stage: string; versionId?: string }) {
    for (const [id, v] of this.versions.get(arn) ?? []) {
      // A version started by Secrets Manager has no value until createSecret puts one (GetSecretValue: not found).
      if (
        v.value !== '' &&
        v.stages.includes(select.stage) &&
        (select.versionId === undefined || select.versionId === id)
      )
        return v.value;
    }
    return undefined;
  }

  async describe(arn: string) {
    const versions: Record<string, string[]> = {};
    for (const [id, v] of this.versions.get(arn)!) versions[id] = [...v.stages];
    return { rotationEnabled: this.rotationEnabled, versions };
  }

  async randomPassword(length: number) {
    const p = `RotatedPassw0rd${++this.counter}`.padEnd(length, 'x');
    this.generated.push(p);
    return p;
  }

  async putPending(arn: string, token: string, value: string) {
    for (const v of this.versions.get(arn)!.values()) v.stages = v.stages.filter((s) => s !== 'AWSPENDING');
    this.versions.get(arn)!.set(token, { value, stages: ['AWSPENDING'] });
  }

  readonly tags = new Map<string, Record<string, string>>();

  async tag(arn: string, key: string, value: string) {
    this.tags.set(arn, { ...this.tags.get(arn), [key]: value });
  }

  async promote(arn: string, token: string, from: string) {
    const versions = this.versions.get(arn)!;
    for (const v of versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
    versions.get(from)!.stages = ['AWSPREVIOUS'];
    versions.get(token)!.stages = ['AWSCURRENT'];
  }

  /** What Secrets Manager does when a rotation starts: a new version id labelled AWSPENDING, without a value yet. */
  start(arn: string): string {
    const token = randomUUID();
    this.versions.get(arn)!.set(token, { value: '', stages: ['AWSPENDING'] });
    return token;
  }
}
