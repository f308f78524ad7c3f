/** A JSON object (not null, not an array): the one test every layer uses for "is this a mapping". */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
