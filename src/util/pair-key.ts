/**
 * One Map key for a pair of ids, e.g. (user, device) or (room, user). NUL separates them:
 * Matrix ids never contain it, so different pairs never make the same key.
 */
export const pairKey = (a: string, b: string): string => `${a}\u0000${b}`;
