#!/usr/bin/env python3
"""Drives a Sluice server with matrix-nio's AsyncClient (Debian's python3-matrix-nio).

Usage: nio_login.py <base_url> <localpart> <password> [--pause-before-logout]

Steps: register (nio sends m.login.dummy up front), whoami on the registration token,
password login on a second client, whoami, devices(), set/get displayname, logout,
whoami with the logged-out token. nio talks /_matrix/client/r0/... and sends the access
token as ?access_token=.

Prints one JSON object per line on stdout. With --pause-before-logout it first prints
{"stage": "logged_in", ...} and waits for a line on stdin before logging out, so the
caller can inspect the server in between; the last line is always {"stage": "done", ...}.
Exit status 0 means the script ran to the end, not that every step succeeded: the
caller judges the summary.
"""
import asyncio
import json
import sys

from nio import (
    AsyncClient,
    AsyncClientConfig,
    DevicesResponse,
    ErrorResponse,
    LoginResponse,
    LogoutResponse,
    ProfileGetDisplayNameResponse,
    ProfileSetDisplayNameResponse,
    RegisterResponse,
)
from nio.responses import WhoamiResponse  # not in nio's __all__ (0.20.1)


def error_of(resp):
    """What an nio error response says (errcode in status_code, plus the message)."""
    if isinstance(resp, ErrorResponse):
        return {"errcode": resp.status_code, "error": resp.message}
    return {"unexpected": type(resp).__name__}


def emit(obj):
    print(json.dumps(obj), flush=True)


def new_client(base_url, user=""):
    config = AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False, request_timeout=20, max_timeouts=1)
    return AsyncClient(base_url, user, config=config)


async def run(base_url, localpart, password, pause):
    summary = {"stage": "done"}
    registrar = new_client(base_url)
    client = new_client(base_url, localpart)
    probe = new_client(base_url)
    try:
        # 1. Register. nio's helper sends auth {"type": "m.login.dummy"} with no session.
        reg = await registrar.register(localpart, password, device_name="nio register")
        if isinstance(reg, RegisterResponse):
            summary["register"] = {"ok": True, "user_id": reg.user_id, "device_id": reg.device_id}
            summary["register_access_token"] = reg.access_token
            who = await registrar.whoami()
            summary["register_whoami"] = {"user_id": who.user_id} if isinstance(who, WhoamiResponse) else error_of(who)
        else:
            summary["register"] = {"ok": False, **error_of(reg)}

        # 2. Password login on a second client (identifier m.id.user with the localpart).
        login = await client.login(password, device_name="nio login")
        if not isinstance(login, LoginResponse):
            summary["login"] = {"ok": False, **error_of(login)}
            return summary
        summary["login"] = {"ok": True, "user_id": login.user_id, "device_id": login.device_id}
        login_token = login.access_token

        who = await client.whoami()
        summary["whoami"] = {"user_id": who.user_id} if isinstance(who, WhoamiResponse) else error_of(who)

        devices = await client.devices()
        if isinstance(devices, DevicesResponse):
            summary["devices"] = [{"device_id": d.id, "display_name": d.display_name} for d in devices.devices]
        else:
            summary["devices"] = error_of(devices)

        # 3. Profile.
        set_name = await client.set_displayname("Nio Person")
        summary["set_displayname"] = {"ok": True} if isinstance(set_name, ProfileSetDisplayNameResponse) else error_of(set_name)
        got_name = await client.get_displayname()
        summary["displayname"] = got_name.displayname if isinstance(got_name, ProfileGetDisplayNameResponse) else error_of(got_name)

        if pause:
            emit({
                "stage": "logged_in",
                "user_id": login.user_id,
                "device_id": login.device_id,
                "register_access_token": summary.get("register_access_token"),
            })
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

        # 4. Logout, then try the old token again from a fresh client.
        out = await client.logout()
        summary["logout"] = {"ok": True} if isinstance(out, LogoutResponse) else error_of(out)
        probe.restore_login(login.user_id, login.device_id, login_token)
        after = await probe.whoami()
        summary["whoami_after_logout"] = {"user_id": after.user_id} if isinstance(after, WhoamiResponse) else error_of(after)
        return summary
    finally:
        await registrar.close()
        await client.close()
        await probe.close()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base_url, localpart, password = args
    emit(asyncio.run(run(base_url, localpart, password, "--pause-before-logout" in sys.argv[1:])))


if __name__ == "__main__":
    main()
