/**
 * The fixed part of the rendered Python settings. Its source is the Python file runtime.py beside this one (linted by
 * `npm run lint:python`); scripts/embed-python.mjs generates python-runtime.generated.ts from it.
 */
export { PYTHON_RUNTIME } from './python-runtime.generated';
