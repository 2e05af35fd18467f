// The paging every list route of the admin API shares: `cursor` + `limit` in, `items` +
// `nextCursor` out (cursors come from @fuze/db's page cursor).

export const pageQueryProperties = {
  cursor: { type: 'string', description: "the previous page's nextCursor" },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
} as const;

/** A page of `items`, each matching `itemSchema`. */
export function pageSchema<T extends object>(itemSchema: T) {
  return {
    type: 'object',
    properties: {
      items: { type: 'array', items: itemSchema },
      nextCursor: { type: 'string', description: 'absent on the last page' },
    },
  } as const;
}
