export { type JsonPath, type JsonPathParse, MAX_JSON_PATH_LENGTH, parseJsonPath } from '@fuze/core';
export { compileInput } from './compile-input.js';
export { MAX_INPUT_TEXT_LENGTH } from './constant-input.js';
export { isJsonContentType } from './event-data-input.js';
export {
  type InputIssue,
  InputTransformError,
  InvalidInputError,
  isInputTransformError,
  isInvalidInputError,
} from './input-errors.js';
export {
  APPLICATION_JSON,
  CLOUDEVENTS_JSON,
  type InputContext,
  type InputSpec,
  type InputTransformer,
  TEXT_PLAIN,
  type TransformedInput,
} from './input-types.js';
export { MAX_INPUT_PATHS } from './template-input.js';
export { type PredefinedPlaceholder, predefinedPlaceholders } from './template-placeholders.js';
