import { APPLICATION_JSON, type InputTransformer, TEXT_PLAIN } from './input-types.js';

/** EventBridge's limit on a target's constant `Input` and on an `InputTemplate`. */
export const MAX_INPUT_TEXT_LENGTH = 8192;

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** `input: { constant }`: the same body for every event; JSON text is sent as JSON, anything else as text. */
export function constantInput(text: string): InputTransformer {
  const result = { body: text, contentType: isJsonText(text) ? APPLICATION_JSON : TEXT_PLAIN };
  return { kind: 'constant', spec: { constant: text }, apply: () => result };
}
