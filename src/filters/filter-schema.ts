/**
 * The spec's Filter object (definitions/sync_filter.yaml) as a TypeBox schema: used to
 * validate POST /user/{userId}/filter and, later, inline `filter=` JSON on /sync.
 * Objects stay open (clients send vendor-prefixed keys) but every known key is typed.
 */
import Type, { type Static } from "typebox";

const Ids = Type.Array(Type.String({ maxLength: 512 }), { maxItems: 10_000 });
const Limit = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });

const EventFilterProps = {
  limit: Type.Optional(Limit),
  not_senders: Type.Optional(Ids),
  not_types: Type.Optional(Ids),
  senders: Type.Optional(Ids),
  types: Type.Optional(Ids),
};

export const EventFilter = Type.Object(EventFilterProps);

export const RoomEventFilter = Type.Object({
  ...EventFilterProps,
  not_rooms: Type.Optional(Ids),
  rooms: Type.Optional(Ids),
  contains_url: Type.Optional(Type.Boolean()),
  lazy_load_members: Type.Optional(Type.Boolean()),
  include_redundant_members: Type.Optional(Type.Boolean()),
  unread_thread_notifications: Type.Optional(Type.Boolean()),
});

export const RoomFilter = Type.Object({
  not_rooms: Type.Optional(Ids),
  rooms: Type.Optional(Ids),
  ephemeral: Type.Optional(RoomEventFilter),
  include_leave: Type.Optional(Type.Boolean()),
  state: Type.Optional(RoomEventFilter),
  timeline: Type.Optional(RoomEventFilter),
  account_data: Type.Optional(RoomEventFilter),
});

export const Filter = Type.Object({
  event_fields: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 256 })),
  event_format: Type.Optional(Type.Union([Type.Literal("client"), Type.Literal("federation")])),
  presence: Type.Optional(EventFilter),
  account_data: Type.Optional(EventFilter),
  room: Type.Optional(RoomFilter),
});

export type FilterBody = Static<typeof Filter>;
