import { InputTransformError } from './input-errors.js';
import { CLOUDEVENTS_JSON, type InputTransformer } from './input-types.js';

/** `input: whole` (the default): the event in the CloudEvents structured JSON format. */
export const wholeEventInput: InputTransformer = {
  kind: 'whole',
  spec: 'whole',
  apply(event) {
    try {
      return { body: JSON.stringify(event), contentType: CLOUDEVENTS_JSON };
    } catch (err) {
      throw new InputTransformError(`the event cannot be written as JSON: ${String(err)}`, { cause: err });
    }
  },
};
