import { join, relative } from 'node:path';
import * as ts from 'typescript';

/** The repository root. */
export const ROOT = join(__dirname, '..', '..');

/** The package's five entry points (package.json `exports`), as source files. */
export const ENTRY_POINTS = [
  'lib/index.ts',
  'lib/cdk/index.ts',
  'lib/cdk/testing.ts',
  'lib/cdktf/index.ts',
  'lib/cdktf/testing.ts',
];

/** A path relative to the repository root, with forward slashes. */
export const rel = (file: string): string => relative(ROOT, file).split('\\').join('/');

/** The compiler options of tsconfig.json, as `npm run build` uses them. */
export function projectOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error('tsconfig.json could not be read');
  return parsed.options;
}

/** A program over the five entry points (and what they import), with the project's options plus `extra`. */
export function entryPointProgram(extra: ts.CompilerOptions = {}): ts.Program {
  return ts.createProgram({
    rootNames: ENTRY_POINTS.map((e) => join(ROOT, e)),
    options: { ...projectOptions(), ...extra },
  });
}
