export { type ErrorCode, errorCodes } from './codes.js';
export { FuzeError, isFuzeError } from './fuze-error.js';
export { type ProblemAnswer, readProblemAnswer } from './problem-answer.js';
