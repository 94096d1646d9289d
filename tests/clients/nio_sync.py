#!/usr/bin/env python3
"""Runs a matrix-nio (Debian's python3-matrix-nio) sync loop against a Sluice server.

Usage: nio_sync.py <base_url> <user_id> <device_id> <access_token>

The client restores the given session and runs `sync_forever` (long-polls over
/_matrix/client/r0/sync, token in ?access_token=). It joins (nio's `join`) every room it
is invited to. It prints one JSON object per line on stdout:

  {"event": "synced", "next_batch": ..., "rooms": [...], "invited": [...]}  after the first sync
  {"event": "message", "room_id", "event_id", "sender", "body"}            each m.room.message text
  {"event": "invited", "room_id", "sender", "membership"}                   an invite for this user
  {"event": "joined", "room_id", "ok", "error"}                             the join's outcome
  {"event": "state", "rooms": {...}, "invited": [...], "next_batch": ...}   on "state" from stdin
  {"event": "done", "syncs": n, "errors": [...]}                            on "stop" from stdin

Commands come one per line on stdin: "state" prints what nio holds about its rooms, "stop"
ends the loop and the script. Exit status 0 means the script ran to the end; the caller
judges what it printed.
"""
import asyncio
import json
import sys

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinResponse,
    RoomMessageText,
    SyncError,
    SyncResponse,
)


def emit(obj):
    print(json.dumps(obj), flush=True)


def room_view(room):
    """What nio made of a room from the sync responses."""
    return {
        "display_name": room.display_name,
        "name": room.name,
        "topic": room.topic,
        "users": sorted(room.users.keys()),
        "joined_count": room.joined_count,
        "invited_count": room.invited_count,
        "member_count": room.member_count,
    }


async def run(base_url, user_id, device_id, access_token):
    config = AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False, request_timeout=90, max_timeouts=None)
    client = AsyncClient(base_url, user_id, device_id=device_id, config=config)
    client.restore_login(user_id, device_id, access_token)

    syncs = 0
    errors = []
    joining = set()

    async def on_message(room, event):
        emit({"event": "message", "room_id": room.room_id, "event_id": event.event_id, "sender": event.sender, "body": event.body})

    async def on_invite(room, event):
        if event.state_key != client.user_id or event.membership != "invite" or room.room_id in joining:
            return
        joining.add(room.room_id)
        emit({"event": "invited", "room_id": room.room_id, "sender": event.sender, "membership": event.membership})
        resp = await client.join(room.room_id)
        if isinstance(resp, JoinResponse):
            emit({"event": "joined", "room_id": resp.room_id, "ok": True, "error": None})
        else:
            emit({"event": "joined", "room_id": room.room_id, "ok": False, "error": f"{resp.status_code}: {resp.message}"})

    async def on_sync(resp):
        nonlocal syncs
        if isinstance(resp, SyncError):
            errors.append(f"{resp.status_code}: {resp.message}")
            return
        syncs += 1
        if syncs == 1:
            emit({
                "event": "synced",
                "next_batch": resp.next_batch,
                "rooms": sorted(client.rooms.keys()),
                "invited": sorted(client.invited_rooms.keys()),
            })

    client.add_event_callback(on_message, RoomMessageText)
    client.add_event_callback(on_invite, InviteMemberEvent)
    client.add_response_callback(on_sync, (SyncResponse, SyncError))

    # First sync: nio's full_state=True initial sync; then long-polls of up to 30 s with an
    # inline filter, a short pause between successful iterations (no tight loop on errors).
    loop = asyncio.create_task(
        client.sync_forever(timeout=30000, sync_filter={"room": {"timeline": {"limit": 20}}}, full_state=True, loop_sleep_time=100)
    )
    stdin_reader = asyncio.get_running_loop()
    try:
        while True:
            line = await stdin_reader.run_in_executor(None, sys.stdin.readline)
            command = line.strip()
            if loop.done():
                # The loop died: report why and stop.
                exc = loop.exception() if not loop.cancelled() else None
                errors.append(f"sync loop ended: {exc!r}")
                break
            if command == "state":
                emit({
                    "event": "state",
                    "next_batch": client.next_batch,
                    "rooms": {rid: room_view(room) for rid, room in client.rooms.items()},
                    "invited": sorted(client.invited_rooms.keys()),
                })
            elif command == "stop" or line == "":
                break
    finally:
        loop.cancel()
        try:
            await loop
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
            pass
        await client.close()
    emit({"event": "done", "syncs": syncs, "errors": errors})


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    asyncio.run(run(*sys.argv[1:5]))


if __name__ == "__main__":
    main()
