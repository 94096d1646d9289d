#!/usr/bin/env python3
"""Two matrix-nio clients with end-to-end encryption (python3-olm) exchange keys via Sluice.

Usage: nio_keys.py <base_url> <store_dir>

Steps: register "nioalice" and "niobob" with encryption enabled (each with an olm account
in its own store under <store_dir>); both upload their device keys and one-time keys
(nio's keys_upload: identity keys signed by the device, 50 signed_curve25519 keys);
bob queries alice's device keys (nio checks the self-signature) and claims one of her
one-time keys (nio checks its signature and starts an Olm session with it). Then bob
encrypts an m.dummy payload for alice's device with that session and sends it with
PUT /sendToDevice, pauses so the caller can see it queued, and alice syncs and decrypts it.

Prints one JSON object per line on stdout: {"stage": "sent", ...} before the pause (the
script waits for a line on stdin), and {"stage": "done", ...} last. Exit status 0 means
the script ran to the end, not that every step succeeded: the caller judges the summary.
"""
import asyncio
import json
import os
import sys

from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    KeysClaimResponse,
    KeysQueryResponse,
    KeysUploadResponse,
    RegisterResponse,
    SyncResponse,
    ToDeviceResponse,
)
from nio.event_builders import ToDeviceMessage
from nio.events import DummyEvent

PASSWORD = "nio keys correct horse"


def error_of(resp):
    if isinstance(resp, ErrorResponse):
        return {"errcode": resp.status_code, "error": resp.message}
    return {"unexpected": type(resp).__name__, "repr": repr(resp)[:500]}


def emit(obj):
    print(json.dumps(obj), flush=True)


def new_client(base_url, store_dir, name):
    path = os.path.join(store_dir, name)
    os.makedirs(path, exist_ok=True)
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, request_timeout=20, max_timeouts=1)
    return AsyncClient(base_url, "", store_path=path, config=config)


async def register(client, localpart):
    resp = await client.register(localpart, PASSWORD, device_name=f"{localpart} nio")
    if not isinstance(resp, RegisterResponse):
        raise RuntimeError(f"register {localpart}: {error_of(resp)}")
    return {"user_id": resp.user_id, "device_id": resp.device_id}


async def upload(client):
    resp = await client.keys_upload()
    if isinstance(resp, KeysUploadResponse):
        return {"ok": True, "signed_curve25519": resp.signed_curve25519_count}
    return {"ok": False, **error_of(resp)}


async def run(base_url, store_dir):
    summary = {"stage": "done"}
    alice = new_client(base_url, store_dir, "alice")
    bob = new_client(base_url, store_dir, "bob")
    try:
        summary["alice"] = await register(alice, "nioalice")
        summary["bob"] = await register(bob, "niobob")
        alice_id, alice_device = summary["alice"]["user_id"], summary["alice"]["device_id"]
        summary["alice"]["ed25519"] = alice.olm.account.identity_keys["ed25519"]
        summary["alice"]["curve25519"] = alice.olm.account.identity_keys["curve25519"]

        # 1. Both publish identity keys and one-time keys.
        summary["alice_upload"] = await upload(alice)
        summary["bob_upload"] = await upload(bob)
        summary["alice_shared"] = alice.olm.account.shared

        # 2. Bob asks for alice's devices (as after seeing her in an encrypted room).
        bob.olm.users_for_key_query.add(alice_id)
        query = await bob.keys_query()
        if isinstance(query, KeysQueryResponse):
            known = bob.olm.device_store[alice_id].get(alice_device)
            summary["query"] = {
                "ok": True,
                "failures": query.failures,
                "device_ids": sorted(query.device_keys.get(alice_id, {}).keys()),
                # Present only if nio verified the self-signature and stored the device.
                "verified_device": None if known is None else {
                    "ed25519": known.ed25519,
                    "curve25519": known.curve25519,
                    "display_name": known.display_name,
                },
            }
        else:
            summary["query"] = {"ok": False, **error_of(query)}
            return summary

        # 3. Bob claims one of alice's one-time keys and starts an Olm session with it.
        claim = await bob.keys_claim({alice_id: [alice_device]})
        if isinstance(claim, KeysClaimResponse):
            claimed = claim.one_time_keys.get(alice_id, {}).get(alice_device, {})
            session = bob.olm.session_store.get(summary["alice"]["curve25519"])
            summary["claim"] = {"ok": True, "failures": claim.failures, "key_ids": sorted(claimed.keys()), "session": session is not None}
        else:
            summary["claim"] = {"ok": False, **error_of(claim)}
            return summary
        if session is None:
            return summary

        # 4. Bob sends alice an Olm-encrypted to-device message over that session.
        device = bob.olm.device_store[alice_id][alice_device]
        content = bob.olm._olm_encrypt(session, device, "m.dummy", {})
        sent = await bob.to_device(ToDeviceMessage("m.room.encrypted", alice_id, alice_device, content), tx_id="nio-keys-1")
        summary["to_device"] = {"ok": True} if isinstance(sent, ToDeviceResponse) else {"ok": False, **error_of(sent)}
        summary["bob"]["curve25519"] = bob.olm.account.identity_keys["curve25519"]

        emit({"stage": "sent", "alice": summary["alice"], "bob": summary["bob"]})
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

        # 5. Alice syncs: nio decrypts the Olm message with the one-time key bob claimed.
        synced = await alice.sync(timeout=0)
        if isinstance(synced, SyncResponse):
            dummies = [e for e in synced.to_device_events if isinstance(e, DummyEvent)]
            summary["alice_sync"] = {
                "ok": True,
                "to_device_types": [type(e).__name__ for e in synced.to_device_events],
                "decrypted_from": [{"sender": e.sender, "sender_key": e.sender_key} for e in dummies],
                "one_time_key_count": alice.olm.uploaded_key_count,
            }
        else:
            summary["alice_sync"] = {"ok": False, **error_of(synced)}
        return summary
    finally:
        await alice.close()
        await bob.close()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    emit(asyncio.run(run(sys.argv[1], sys.argv[2])))


if __name__ == "__main__":
    main()
