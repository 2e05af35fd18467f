/**
 * RFC 9457 problem details as every admin route answers errors; the error's details (e.g.
 * `missing`, `ids`) are extra members. Registered once as `problem#` and reused inline.
 */
export const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  additionalProperties: true,
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { pointer: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;
