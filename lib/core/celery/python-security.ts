/**
 * The message-signing and result-encryption part of the rendered Python settings. Its source is the Python file
 * security.py beside this one (linted by `npm run lint:python`); scripts/embed-python.mjs generates
 * python-security.generated.ts from it.
 */
export { PYTHON_SECURITY } from './python-security.generated';
