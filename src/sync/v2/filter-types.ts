/** Static types of the filter parts items read. */
import type { Static } from "typebox";
import type { EventFilter } from "../../filters/filter-schema.js";

export type EventFilterBody = Static<typeof EventFilter>;
