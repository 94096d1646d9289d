/**
 * StreamPos: a position in the one global sequence of client-visible changes.
 * Positions start at 1; 0 means "before everything". Created only by the sequencer or by
 * parsing a stored value at the edge (storage rows, tokens).
 */
export type StreamPos = number & { readonly __brand: "StreamPos" };

export const ORIGIN = 0 as StreamPos;

export function asStreamPos(n: number): StreamPos {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a stream position: ${n}`);
  return n as StreamPos;
}

/** What a retired position changed, as the notifier sees it: positions and names, never data. */
export interface StreamChange {
  readonly pos: StreamPos;
  /** What kind of row sits at this position (e.g. "event", "device_list", "profile"). */
  readonly kind: string;
  readonly roomId?: string;
  /** Users whose sync may care, when known without a room (e.g. a device-list change). */
  readonly userIds?: readonly string[];
  /** For membership events: the target's new membership (keeps the notifier's room map current). */
  readonly membership?: string;
}
