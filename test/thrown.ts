import { ValidationError } from '../lib';

/** The ValidationError that `fn` throws; fails when it throws nothing or another error. */
export function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}
