import { isInvalidPatternError } from '../pattern/errors.js';
import { EventFields } from '../pattern/event-fields.js';
import { parsePattern } from '../pattern/parse.js';
import type { CloudEventLike, PatternLimits } from '../pattern/types.js';
import { PresentPaths } from './present-paths.js';
import { RuleTrie } from './rule-trie.js';
import { SelectiveJsonReader, SelectiveReadError } from './selective-json.js';
import { TrieWalker } from './trie-walk.js';

export interface RuleInput {
  readonly id: string;
  readonly pattern: unknown;
}

/** All the rules of a bus, compiled into one shared structure. */
export interface CompiledMatcher {
  /**
   * The ids of the rules whose pattern matches, in the order the rules were given, each once.
   * Returns exactly what each rule's `compilePattern(pattern).matches(event)` would. Never throws.
   */
  match(event: CloudEventLike): string[];
  /**
   * The same answer for an event given as its JSON text, reading only the fields the rules name
   * (most of a large event is never built). Throws SyntaxError, as JSON.parse does, for a text
   * that is not JSON, except that a fault in a part no rule reads may go unnoticed.
   */
  matchJson(text: string): string[];
  readonly ruleCount: number;
  /** States in the shared structure (a size figure for metrics). */
  readonly stateCount: number;
}

export type CompileMatcherOptions = PatternLimits;

/**
 * Compiles many rules into one matcher (in the spirit of aws/event-ruler's state machine): each
 * rule's conditions become states shared with every rule that has the same leading conditions,
 * with value indexes on each field; an event's fields are read once, and only when a reached
 * state looks at them. Matching cost follows the
 * conditions the event satisfies, not the number of rules. Rules may share an id: the id then
 * matches when any of them does (event-ruler's "same name, several patterns").
 *
 * Throws InvalidPatternError (with `ruleId`) for the first invalid pattern.
 */
export function compileMatcher(
  rules: readonly RuleInput[],
  options: CompileMatcherOptions = {},
): CompiledMatcher {
  const trie = new RuleTrie();
  rules.forEach((rule, ruleIndex) => {
    let parsed: ReturnType<typeof parsePattern>;
    try {
      parsed = parsePattern(rule.pattern, options);
    } catch (err) {
      throw isInvalidPatternError(err) ? err.forRule(rule.id) : err;
    }
    for (const subRule of parsed.subRules) trie.add(subRule, ruleIndex);
  });
  trie.seal();
  const ids = rules.map((rule) => rule.id);
  const idsAreUnique = new Set(ids).size === ids.length;
  // Which match call last found each rule (Float64: exact for 2^53 calls, never reset).
  const foundIn = new Float64Array(rules.length).fill(-1);
  const found: number[] = [];
  let call = -1;
  const present = new PresentPaths(trie.paths);
  const walker = new TrieWalker(trie.root, present, (ruleIndex) => {
    if (foundIn[ruleIndex] === call) return;
    foundIn[ruleIndex] = call;
    found.push(ruleIndex);
  });

  // One reused EventFields: a fresh one per event cost an array the size of the paths.
  const fields = new EventFields({}, trie.paths);
  const match = (event: CloudEventLike, presentKnown = false): string[] => {
    call++;
    found.length = 0;
    walker.walk(event, fields.reuseFor(event), call, presentKnown);
    if (found.length > 1) found.sort((a, b) => a - b);
    const matched = found.map((ruleIndex) => ids[ruleIndex] as string);
    return idsAreUnique ? matched : [...new Set(matched)];
  };
  const reader = new SelectiveJsonReader(trie.paths, present);

  return {
    ruleCount: rules.length,
    stateCount: trie.size,
    match: (event) => match(event),
    matchJson(text) {
      let event: CloudEventLike;
      try {
        event = reader.read(text);
      } catch (err) {
        if (!(err instanceof SelectiveReadError)) throw err;
        // JSON.parse says precisely what is wrong, or reads what the reader does not vouch for.
        return match(JSON.parse(text) as CloudEventLike);
      }
      return match(event, true);
    },
  };
}
