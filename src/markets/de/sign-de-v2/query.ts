/** Paging and ordering of list endpoints. */
export function listQuery(
  query: {
    limit?: string
    offset?: string
    order?: 'asc' | 'desc'
    order_by?: string
    states?: string | string[]
    'states[]'?: string | string[]
  },
  defaultOrderBy: string,
) {
  const states = [query.states ?? [], query['states[]'] ?? []].flat()
  return {
    limit: query.limit ? Number(query.limit) : 100,
    offset: query.offset ? Number(query.offset) : 0,
    order: query.order ?? 'asc',
    orderBy: query.order_by ?? defaultOrderBy,
    states: states.length ? states : undefined,
  }
}

export const lower = (id: string) => id.toLowerCase()
