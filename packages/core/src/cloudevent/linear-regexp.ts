import { RE2JS } from 're2js';

/**
 * ajv's `code.regExp` engine for schemas that come from users (event data schemas): RE2, which
 * matches in time linear in the input. With JavaScript's backtracking RegExp, one schema holding
 * `"pattern": "^(a+)+$"` and one 35-character string froze the whole process for minutes.
 * RE2 has no lookaround and no backreferences; such a pattern fails to compile, and the schema
 * is refused with the engine's message.
 */
export const linearRegExp = /* @__PURE__ */ Object.assign(compileLinear, {
  // ajv reads `code` when it generates standalone code; Fuze never does, but ajv needs a string.
  code: 're2js',
});

function compileLinear(
  pattern: string,
  _flags: string,
): { test(input: string): boolean; toString(): string } {
  // ajv passes "u" (unicode) or nothing; RE2 always matches by code point.
  const compiled = RE2JS.compile(pattern);
  return {
    test: (input: string) => compiled.test(input),
    // ajv keys its compiled patterns by this string.
    toString: () => `re2:${pattern}`,
  };
}
