import {
  IssueCollector,
  LITERAL_CONTEXT,
  NAME_RULES,
  NameRule,
  LIMITS,
  checkName,
  checkSecretField,
  physicalNameFromPath,
  rabbitMqUserShape,
  redisAuthTokenShape,
} from '../../lib/core';

/**
 * Property-based tests of the name and secret-shape validators, with a small seeded generator (mulberry32). Each
 * validator is compared with an oracle written independently from the AWS rules (character sets, not regular
 * expressions). Set FUZZ_SEED to replay a run; the seed is in every test name.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20251122);
const RUNS = 400;

function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  return { next, int, pick };
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
/** Every class of character the rules treat differently, plus the ones that break URLs and shells. */
const ALPHABET = [
  ...LOWER,
  ...UPPER,
  ...DIGITS,
  '-',
  '_',
  '.',
  ' ',
  ':',
  '/',
  '@',
  '+',
  '=',
  ',',
  '!',
  '%',
  '"',
  '\\',
  '\t',
  'é',
  '\u0000',
  '~',
];

/** A string biased towards the edges: lengths around the limits, runs of one class, separators at the ends. */
function randomName(r: ReturnType<typeof rng>, max: number): string {
  const length = r.pick([0, 1, 2, max - 1, max, max + 1, r.int(0, max + 5), r.int(0, 12)]);
  const pool = r.pick([
    ALPHABET,
    [...LOWER, ...DIGITS, '-'],
    [...LOWER, ...UPPER, ...DIGITS, '_', '-'],
    [...LOWER, '-', '.'],
  ]);
  let s = '';
  for (let i = 0; i < Math.max(0, length); i++) s += r.pick(pool);
  return s;
}

const only = (value: string, allowed: string) => [...value].every((c) => allowed.includes(c));
const lengthIn = (v: string, min: number, max: number) => v.length >= min && v.length <= max;

/** Oracles from the AWS documentation of each rule (see the `source` of NAME_RULES). */
const ORACLES: Record<keyof typeof NAME_RULES, (v: string) => boolean> = {
  replicationGroupId: (v) =>
    lengthIn(v, 1, 40) &&
    LOWER.includes(v[0]) &&
    only(v, LOWER + DIGITS + '-') &&
    !v.endsWith('-') &&
    !v.includes('--'),
  rdsIdentifier: (v) =>
    lengthIn(v, 1, 63) &&
    LOWER.includes(v[0]) &&
    only(v, LOWER + DIGITS + '-') &&
    !v.endsWith('-') &&
    !v.includes('--'),
  brokerName: (v) => lengthIn(v, 1, 50) && only(v, LOWER + UPPER + DIGITS + '-_'),
  rabbitMqUsername: (v) =>
    lengthIn(v, 2, 100) && only(v, LOWER + UPPER + DIGITS + '-._') && v.toLowerCase() !== 'guest',
  rabbitMqVhost: (v) => lengthIn(v, 1, 255) && [...v].every((c) => c.charCodeAt(0) > 32 && c.charCodeAt(0) < 127),
  redisUsername: (v) => lengthIn(v, 1, 40) && only(v, LOWER + UPPER + DIGITS + '-_'),
  rbacIdPrefix: (v) => lengthIn(v, 1, 30) && LOWER.includes(v[0]) && only(v, LOWER + DIGITS + '-'),
  alarmName: (v) => lengthIn(v, 1, 255) && only(v, LOWER + UPPER + DIGITS + '-_'),
  lambdaFunctionName: (v) => lengthIn(v, 1, 64) && only(v, LOWER + UPPER + DIGITS + '-_'),
  secretName: (v) => lengthIn(v, 1, 512) && only(v, LOWER + UPPER + DIGITS + '/_+=.@-'),
};

function nameErrors(rule: NameRule, prop: string, value: string) {
  const issues = new IssueCollector(LITERAL_CONTEXT);
  checkName(issues, rule, prop, value);
  return issues.errors;
}

describe(`name validators agree with independent oracles (seed ${SEED})`, () => {
  test.each(Object.keys(NAME_RULES) as (keyof typeof NAME_RULES)[])('%s', (ruleName) => {
    const rule: NameRule = NAME_RULES[ruleName];
    const r = rng(SEED + ruleName.length);
    let valid = 0;
    for (let i = 0; i < RUNS; i++) {
      const value = i === 0 ? 'guest' : randomName(r, rule.maxLength);
      const errors = nameErrors(rule, 'theProp', value);
      const expected = ORACLES[ruleName](value);
      if (expected !== (errors.length === 0))
        throw new Error(
          `${ruleName}: ${JSON.stringify(value)} is ${expected ? 'valid' : 'invalid'} by the oracle, the validator says ${JSON.stringify(errors)}`,
        );
      if (errors.length > 0) {
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatchObject({ code: 'name.theProp', prop: 'theProp' });
        expect(errors[0].message.startsWith(`theProp ${JSON.stringify(value)} is not a valid ${rule.what}: `)).toBe(
          true,
        );
        expect(errors[0].message).toContain(rule.source);
      } else {
        valid++;
      }
    }
    // The generator must reach both sides, or the comparison proves little.
    expect(valid).toBeGreaterThan(RUNS / 20);
    expect(valid).toBeLessThan(RUNS);
  });

  test('a valid name plus one forbidden character is always refused', () => {
    const r = rng(SEED);
    for (let i = 0; i < RUNS; i++) {
      const base = `celery${r.int(0, 9999)}`;
      const bad = r.pick([' ', ':', '/', '!', 'é', '\t']);
      const at = r.int(1, base.length);
      const value = base.slice(0, at) + bad + base.slice(at);
      expect(nameErrors(NAME_RULES.brokerName, 'brokerName', value)).toHaveLength(1);
      expect(nameErrors(NAME_RULES.replicationGroupId, 'replicationGroupId', value)).toHaveLength(1);
    }
  });
});

describe(`names derived from construct paths are always valid and stable (seed ${SEED})`, () => {
  test.each(['replicationGroupId', 'brokerName'] as const)('%s', (ruleName) => {
    const rule = NAME_RULES[ruleName];
    const r = rng(SEED + 7);
    const seen = new Map<string, string>();
    for (let i = 0; i < RUNS; i++) {
      const path = Array.from({ length: r.int(1, 6) }, () => randomName(r, 30) || 'x');
      const name = physicalNameFromPath(path, rule);
      expect({ path, errors: nameErrors(rule, ruleName, name) }).toEqual({ path, errors: [] });
      expect(ORACLES[ruleName](name)).toBe(true);
      expect(physicalNameFromPath(path, rule)).toBe(name);
      const key = path.join('/');
      if (seen.has(name) && seen.get(name) !== key)
        throw new Error(`two paths share ${name}: ${seen.get(name)} and ${key}`);
      seen.set(name, key);
    }
  });
});

describe(`secret shapes (seed ${SEED})`, () => {
  const lengths = (r: ReturnType<typeof rng>) =>
    r.pick<number>([r.int(-5, 300), r.int(10, 20), r.int(120, 260), r.int(0, 50) + 0.5, NaN, Infinity, -0, 0]);

  test.each([
    [
      'authToken.length',
      LIMITS.redisAuthToken,
      (i: IssueCollector, l?: number) => redisAuthTokenShape(i, 'authToken.length', l),
    ],
    [
      'adminCredentials.length',
      LIMITS.rabbitMqPassword,
      (i: IssueCollector, l?: number) => rabbitMqUserShape(i, 'adminCredentials.length', 'celeryadmin', l),
    ],
  ] as const)('%s: refused unless a whole number within the limits; the shape is URL-safe', (prop, limits, shape) => {
    const r = rng(SEED + prop.length);
    let accepted = 0;
    for (let i = 0; i < RUNS; i++) {
      const length = lengths(r);
      const issues = new IssueCollector(LITERAL_CONTEXT);
      const s = shape(issues, length);
      const ok = Number.isInteger(length) && length >= limits.min && length <= limits.max;
      expect({ length, refused: issues.errors.length > 0 }).toEqual({ length, refused: !ok });
      // Whatever the length, the generated characters are [A-Za-z0-9]: valid for both services and safe in URLs.
      expect(s).toMatchObject({
        excludePunctuation: true,
        includeSpace: false,
        requireEachIncludedType: true,
        generateStringKey: 'password',
      });
      if (ok) {
        accepted++;
        expect(s.length).toBe(length);
      } else {
        expect(issues.errors[0].prop).toBe(prop);
        expect(issues.errors[0].message.startsWith(`${prop} `)).toBe(true);
        expect(issues.errors[0].message).toContain(`from ${limits.min} to ${limits.max}`);
      }
    }
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(accepted).toBeLessThan(RUNS);
  });

  test('the admin secret template carries the user name, and nothing else', () => {
    const r = rng(SEED + 3);
    for (let i = 0; i < RUNS / 4; i++) {
      const user = `u${r.int(0, 1e6)}`;
      expect(rabbitMqUserShape(new IssueCollector(LITERAL_CONTEXT), 'p', user).template).toEqual({ username: user });
    }
    expect(redisAuthTokenShape(new IssueCollector(LITERAL_CONTEXT), 'p').template).toEqual({});
  });

  test('secret field names: accepted exactly when 1 to 128 of [A-Za-z0-9_.-]', () => {
    const r = rng(SEED + 11);
    for (let i = 0; i < RUNS; i++) {
      const field = randomName(r, 128);
      const issues = new IssueCollector(LITERAL_CONTEXT);
      checkSecretField(issues, 'authToken.field', field);
      const ok = lengthIn(field, 1, 128) && only(field, LOWER + UPPER + DIGITS + '_.-');
      expect({ field, refused: issues.errors.length > 0 }).toEqual({ field, refused: !ok });
      if (!ok)
        expect(
          issues.errors[0].message.startsWith(
            `authToken.field ${JSON.stringify(field)} is not a usable JSON field name`,
          ),
        ).toBe(true);
    }
  });
});

test('the generator is deterministic for a seed (so a failure can be replayed)', () => {
  const a = rng(42);
  const b = rng(42);
  expect(Array.from({ length: 20 }, () => randomName(a, 40))).toEqual(
    Array.from({ length: 20 }, () => randomName(b, 40)),
  );
});
