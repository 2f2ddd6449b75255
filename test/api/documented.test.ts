/**
 * Every name of the published API has a description: each export of the five entry points (re-exports and aliases
 * followed), each public member of an exported class (properties, methods, accessors, static members; not the
 * constructor, not private or protected members), each property and method of an exported interface (inherited ones
 * included when they are declared in this repository's lib/, not in node_modules), and each member of an exported
 * enum. A description is a non-empty JSDoc comment (`getDocumentationComment`), which TypeDoc shows.
 *
 *     npx jest test/api/documented.test.ts
 */
import { sep } from 'node:path';
import * as ts from 'typescript';
import { ENTRY_POINTS, ROOT, entryPointProgram, rel } from './program';

const LIB = `${ROOT}${sep}lib${sep}`;
const inLib = (d: ts.Declaration) => d.getSourceFile().fileName.split('/').join(sep).startsWith(LIB);

/** `file:line` of a declaration (its name when it has one). */
function where(d: ts.Declaration): string {
  const sf = d.getSourceFile();
  const at = (ts.getNameOfDeclaration(d) ?? d).getStart(sf);
  return `${rel(sf.fileName)}:${sf.getLineAndCharacterOfPosition(at).line + 1}`;
}

const hidden = (d: ts.Declaration) =>
  (ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 ||
  ts.getNameOfDeclaration(d)?.kind === ts.SyntaxKind.PrivateIdentifier;

/** One undocumented name: the entry point, `Symbol` or `Symbol.member`, and where it is declared. */
interface Missing {
  readonly entry: string;
  readonly name: string;
  readonly at: string;
}

/** The undocumented exports and members of the five entry points. */
function undocumented(program: ts.Program): Missing[] {
  const checker = program.getTypeChecker();
  const missing: Missing[] = [];
  const documented = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== '';
  const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);

  for (const entry of ENTRY_POINTS) {
    const sf = program.getSourceFile(`${ROOT}/${entry}`);
    const module = sf && checker.getSymbolAtLocation(sf);
    if (!module) throw new Error(`${entry}: not a module of the program`);
    const report = (name: string, s: ts.Symbol, decl: ts.Declaration | undefined = s.declarations?.[0]) => {
      if (!documented(s)) missing.push({ entry, name, at: decl ? where(decl) : '?' });
    };
    /** The members of a class or interface type (or a class's constructor type) declared in lib/. */
    const members = (owner: string, type: ts.Type, statics: boolean) => {
      for (const p of checker.getPropertiesOfType(type)) {
        const decls = (p.declarations ?? []).filter(inLib);
        if (decls.length === 0 || decls.some(hidden)) continue;
        if (statics && p.name === 'prototype') continue;
        report(`${owner}.${p.name}`, p, decls[0]);
      }
    };

    for (const exported of checker.getExportsOfModule(module)) {
      const s = resolve(exported);
      const name = exported.name;
      report(name, s);
      const decl = s.declarations?.[0];
      if (s.flags & ts.SymbolFlags.Class) {
        members(name, checker.getDeclaredTypeOfSymbol(s), false);
        const classDecl = s.declarations!.find(ts.isClassLike)!;
        members(name, checker.getTypeOfSymbolAtLocation(s, classDecl), true);
      } else if (s.flags & ts.SymbolFlags.Interface) {
        members(name, checker.getDeclaredTypeOfSymbol(s), false);
      } else if (s.flags & ts.SymbolFlags.Enum && decl) {
        for (const d of s.declarations ?? []) {
          if (!ts.isEnumDeclaration(d)) continue;
          for (const m of d.members) {
            const ms = checker.getSymbolAtLocation(m.name);
            if (ms) report(`${name}.${ms.name}`, ms, m);
          }
        }
      }
    }
  }
  return missing;
}

describe('API documentation', () => {
  test('every export of the entry points, and every public member and prop, has a description', () => {
    const missing = undocumented(entryPointProgram());
    const lines = missing.map((m) => `${m.entry}: ${m.name} (${m.at})`);
    const header = `${lines.length} undocumented names (add a one-line /** description */ to each):`;
    if (lines.length > 0) throw new Error(`${header}\n${lines.join('\n')}`);
  });
});
