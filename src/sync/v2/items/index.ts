/**
 * The ordered, explicit list of sync v2 items. Order matters where the context says so:
 * to_device runs first (it may lower the response's upper bound), account_data before
 * rooms (it collects room account data for them).
 */
import type { Item } from "../item.js";
import { toDeviceItem } from "./to-device.js";
import { accountDataItem } from "./account-data.js";
import { roomsItem } from "./rooms.js";
import { presenceItem } from "./presence.js";
import { deviceListsItem } from "./device-lists.js";
import { deviceKeyCountsItem } from "./device-key-counts.js";

export const ITEMS: readonly Item[] = [toDeviceItem, accountDataItem, roomsItem, presenceItem, deviceListsItem, deviceKeyCountsItem];
