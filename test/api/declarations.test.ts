/**
 * The published declarations (dist/**\/*.d.ts) hide what is not public: no exported class has a member whose name
 * starts with `_`, and nothing marked `@internal` survives (tsconfig.json's stripInternal removes it).
 *
 * The declarations are emitted in memory from the five entry points with the project's own compiler options (what
 * `npm run build` writes to dist/), so the test never reads a stale or missing dist/ and never skips.
 */
import * as ts from 'typescript';
import { entryPointProgram, projectOptions, rel } from './program';

/** Names exported by `export { A, B as C }` (no module specifier) and `export default A` of a declaration file. */
function localExports(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const s of sf.statements) {
    if (ts.isExportDeclaration(s) && !s.moduleSpecifier && s.exportClause && ts.isNamedExports(s.exportClause)) {
      for (const e of s.exportClause.elements) names.add((e.propertyName ?? e.name).text);
    } else if (ts.isExportAssignment(s) && ts.isIdentifier(s.expression)) {
      names.add(s.expression.text);
    }
  }
  return names;
}

const hasModifier = (node: ts.Node, kind: ts.SyntaxKind) =>
  ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []).some((m) => m.kind === kind) : false;
const isInternal = (node: ts.Node) => ts.getJSDocTags(node).some((t) => t.tagName.text === 'internal');
const nameOf = (name: ts.PropertyName | ts.BindingName | undefined) =>
  name &&
  (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name))
    ? name.text
    : undefined;

/**
 * What a declaration file shows that it should not: `file: Class._member` for every member (property, method,
 * accessor, constructor parameter property) of an exported class named with a leading `_`, `file: Class.member
 * (@internal)` for every class member marked `@internal`, and `file: Name (@internal)` for any other declaration that
 * still carries the tag.
 */
export function hiddenMembers(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const exported = localExports(sf);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node)) {
      const cls = node.name?.text ?? 'default';
      if (hasModifier(node, ts.SyntaxKind.ExportKeyword) || exported.has(cls)) {
        const members: [string | undefined, ts.Node][] = [];
        for (const m of node.members) {
          if (ts.isConstructorDeclaration(m)) {
            for (const p of m.parameters) {
              if (ts.isParameterPropertyDeclaration(p, m)) members.push([nameOf(p.name), p]);
            }
            if (isInternal(m)) found.push(`${file}: ${cls}.constructor (@internal)`);
          } else {
            members.push([nameOf(m.name), m]);
          }
        }
        for (const [name, m] of members) {
          if (name?.startsWith('_')) found.push(`${file}: ${cls}.${name}`);
          else if (isInternal(m)) found.push(`${file}: ${cls}.${name ?? '[computed]'} (@internal)`);
        }
      }
      if (isInternal(node)) found.push(`${file}: ${cls} (@internal)`);
      return;
    }
    if (node !== sf && isInternal(node) && !ts.isJSDoc(node)) {
      const name = (node as { name?: ts.PropertyName }).name;
      found.push(`${file}: ${nameOf(name) ?? ts.SyntaxKind[node.kind]} (@internal)`);
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The declaration files `npm run build` would write, emitted in memory: path (dist/...) → text. */
function emitDeclarations(): { files: Map<string, string>; diagnostics: string[] } {
  const program = entryPointProgram({ declaration: true, emitDeclarationOnly: true, noEmit: false });
  const files = new Map<string, string>();
  const result = program.emit(undefined, (fileName, text) => {
    if (fileName.endsWith('.d.ts')) files.set(rel(fileName), text);
  });
  const diagnostics = result.diagnostics.map(
    (d) => `${d.file ? rel(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
  );
  return { files, diagnostics };
}

describe('published declarations', () => {
  test('tsconfig.json strips @internal declarations from the build', () => {
    expect(projectOptions().stripInternal).toBe(true);
  });

  test('the scan finds every kind of hidden member (so that it can fail)', () => {
    const sample = [
      'declare class Local { _notExported: string; }',
      'export declare class A {',
      '  private _p; protected _q: number; _r(): void; static _s: string; get _g(): number; set _h(v: number);',
      '  /** @internal */ visible: string;',
      '  ok: string; #private;',
      '}',
      'declare class B { constructor(_notAProperty: string); }',
      'export { B };',
      'export declare class C { constructor(private readonly _c: string); }',
      'export interface I {',
      '  /** @internal */ x: string;',
      '}',
    ].join('\n');
    expect(hiddenMembers('dist/x.d.ts', sample)).toEqual([
      'dist/x.d.ts: A._p',
      'dist/x.d.ts: A._q',
      'dist/x.d.ts: A._r',
      'dist/x.d.ts: A._s',
      'dist/x.d.ts: A._g',
      'dist/x.d.ts: A._h',
      'dist/x.d.ts: A.visible (@internal)',
      'dist/x.d.ts: C._c',
      'dist/x.d.ts: x (@internal)',
    ]);
  });

  test('no exported class in dist/**/*.d.ts has a `_` member, and nothing @internal is left', () => {
    const { files, diagnostics } = emitDeclarations();
    expect(diagnostics).toEqual([]);
    // The emit covers the entry points and the files they load, so a pass is not vacuous.
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        'dist/lib/index.d.ts',
        'dist/lib/cdk/index.d.ts',
        'dist/lib/cdk/testing.d.ts',
        'dist/lib/cdktf/index.d.ts',
        'dist/lib/cdktf/testing.d.ts',
        'dist/lib/cdk/guard.d.ts',
      ]),
    );
    expect(files.get('dist/lib/cdk/guard.d.ts')).toContain('export declare class CeleryEncryptionGuard');
    const found = [...files.entries()].flatMap(([file, text]) => hiddenMembers(file, text));
    expect(found).toEqual([]);
  });
});
