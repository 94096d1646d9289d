/**
 * matrix-nio with end-to-end encryption (Debian's python3-matrix-nio and python3-olm) against
 * a real Sluice server: tests/clients/nio_keys.py registers two encrypted clients, uploads
 * their keys, lets one query and claim the other's keys and start an Olm session, sends an
 * Olm-encrypted to-device message, and has the recipient sync and decrypt it. This side
 * checks the server's own view in between (keys stored, one key claimed, message queued).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startServer, type TestServer } from "../integration/harness.js";
import type { DeviceId, UserId } from "../../src/events/ids.js";

/** The compiled test lives in dist/tests/clients/. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const SCRIPT = "tests/clients/nio_keys.py";

/** The first interpreter that can import nio and olm (see nio.test.ts for why /usr/bin/python3 too). */
function findPython(): string {
  const candidates = [process.env.SLUICE_PYTHON, "python3", "/usr/bin/python3"].filter((c): c is string => !!c);
  for (const c of candidates) {
    if (spawnSync(c, ["-c", "import nio, olm"], { stdio: "ignore" }).status === 0) return c;
  }
  throw new Error(`no Python with matrix-nio and olm among ${candidates.join(", ")}: apt-get install python3-matrix-nio python3-olm (or set SLUICE_PYTHON)`);
}

interface Party {
  user_id: string;
  device_id: string;
  ed25519: string;
  curve25519: string;
}

describe("matrix-nio end-to-end keys against Sluice", () => {
  let server: TestServer;
  let storeDir: string;

  before(async () => {
    server = await startServer();
    storeDir = mkdtempSync(join(tmpdir(), "sluice-nio-store-"));
  });
  after(async () => {
    await server?.close();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });

  it("uploads, queries and claims keys, and delivers an Olm to-device message", { timeout: 90_000 }, async () => {
    const python = findPython();
    const child = spawn(python, [SCRIPT, server.baseUrl, storeDir], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on("close", (code) => res(code)));
    const killer = setTimeout(() => child.kill("SIGKILL"), 80_000);
    const storage = server.app.services.storage;

    let midway: { aliceKeys: Record<string, unknown> | undefined; aliceCount: Record<string, number>; queued: { sender: string; type: string; content: Record<string, unknown> }[] } | null = null;
    let summary: Record<string, unknown> | null = null;
    try {
      for await (const raw of createInterface({ input: child.stdout })) {
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          assert.fail(`nio script printed a non-JSON line: ${raw}\nstderr:\n${stderr}`);
        }
        if (line.stage === "sent") {
          const alice = line.alice as Party;
          const userId = alice.user_id as UserId;
          const deviceId = alice.device_id as DeviceId;
          midway = {
            aliceKeys: (await storage.keys.deviceKeys(userId, [deviceId]))[0]?.keys,
            aliceCount: await server.app.services.e2eKeys.oneTimeKeyCounts(userId, deviceId),
            queued: (await storage.toDevice.pending(userId, deviceId, storage.sequencer.retired(), 100)).map((m) => ({ sender: m.sender, type: m.type, content: m.content })),
          };
          child.stdin.write("continue\n");
        } else {
          summary = line;
        }
      }
    } finally {
      clearTimeout(killer);
      child.stdin.end();
    }
    const code = await exited;
    assert.equal(code, 0, `nio script exited with ${code}\nstderr:\n${stderr}`);
    assert.ok(summary, `no summary line; stderr:\n${stderr}`);
    const s = summary as Record<string, Record<string, unknown>>;
    const alice = s.alice as unknown as Party;
    const bob = s.bob as unknown as Party;

    // nio's uploads were accepted: 50 signed one-time keys each (half of olm's maximum).
    assert.deepEqual(s.alice_upload, { ok: true, signed_curve25519: 50 }, JSON.stringify(s.alice_upload));
    assert.deepEqual(s.bob_upload, { ok: true, signed_curve25519: 50 });
    assert.equal(s.alice_shared, true);

    // Bob's query returned alice's device, and nio verified its self-signature.
    assert.deepEqual(s.query, {
      ok: true,
      failures: {},
      device_ids: [alice.device_id],
      verified_device: { ed25519: alice.ed25519, curve25519: alice.curve25519, display_name: "nioalice nio" },
    }, JSON.stringify(s.query));

    // Bob's claim returned one signed one-time key, whose signature nio checked before the session.
    const claim = s.claim as { ok: boolean; failures: unknown; key_ids: string[]; session: boolean };
    assert.equal(claim.ok, true, JSON.stringify(claim));
    assert.deepEqual(claim.failures, {});
    assert.equal(claim.key_ids.length, 1);
    assert.match(claim.key_ids[0]!, /^signed_curve25519:/);
    assert.equal(claim.session, true, "nio started an Olm session with the claimed key");
    assert.deepEqual(s.to_device, { ok: true }, JSON.stringify(s.to_device));

    // The server's view while the message waited: alice's keys as nio made them, one key fewer,
    // and bob's Olm message queued for her device.
    assert.ok(midway, `the script never reached the sent stage; summary ${JSON.stringify(summary)}\nstderr:\n${stderr}`);
    const keys = midway.aliceKeys as { keys: Record<string, string>; user_id: string; device_id: string } | undefined;
    assert.ok(keys, "alice's device keys are stored");
    assert.equal(keys.keys[`ed25519:${alice.device_id}`], alice.ed25519);
    assert.equal(keys.keys[`curve25519:${alice.device_id}`], alice.curve25519);
    assert.deepEqual(midway.aliceCount, { signed_curve25519: 49 });
    assert.equal(midway.queued.length, 1, JSON.stringify(midway.queued));
    const queued = midway.queued[0]!;
    assert.equal(queued.sender, bob.user_id);
    assert.equal(queued.type, "m.room.encrypted");
    assert.equal(queued.content.algorithm, "m.olm.v1.curve25519-aes-sha2");
    assert.equal(queued.content.sender_key, bob.curve25519);
    assert.ok((queued.content.ciphertext as Record<string, unknown>)[alice.curve25519], "encrypted for alice's curve25519 key");

    // Alice's sync delivered it and nio decrypted it with the private half of the claimed key.
    const synced = s.alice_sync as { ok: boolean; decrypted_from: { sender: string; sender_key: string }[]; one_time_key_count: number | null };
    assert.equal(synced.ok, true, JSON.stringify(synced));
    assert.deepEqual(synced.decrypted_from, [{ sender: bob.user_id, sender_key: bob.curve25519 }], JSON.stringify(synced));
  });
});
