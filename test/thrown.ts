import { ValidationError } from '../lib/core';

/** The error of class `type` that `fn` throws; fails when it throws nothing or another error. */
export function thrownAs<T extends Error>(type: new (...args: any[]) => T, fn: () => unknown): T {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}

/** The ValidationError that `fn` throws; fails when it throws nothing or another error. */
export function thrown(fn: () => unknown): ValidationError {
  return thrownAs(ValidationError, fn);
}
