/** Stored sync filters (POST/GET /user/{userId}/filter). Validation happens at the HTTP edge. */
import { ForbiddenError, NotFoundError } from "../errors/matrix-error.js";
import type { UserId } from "../events/ids.js";
import type { Requester } from "../accounts/requester.js";
import type { Storage } from "../storage/storage.js";
import type { FilterBody } from "./filter-schema.js";

export class Filters {
  constructor(private readonly storage: Storage) {}

  async create(requester: Requester, userId: UserId, filter: FilterBody): Promise<string> {
    if (requester.userId !== userId) throw new ForbiddenError("Cannot create filters for other users");
    return this.storage.filters.create(userId, filter as Record<string, unknown>);
  }

  async get(requester: Requester, userId: UserId, filterId: string): Promise<Record<string, unknown>> {
    if (requester.userId !== userId) throw new ForbiddenError("Cannot read filters of other users");
    const f = await this.storage.filters.get(userId, filterId);
    if (!f) throw new NotFoundError("No such filter");
    return f;
  }
}
