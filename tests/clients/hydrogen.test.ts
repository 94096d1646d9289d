/**
 * Hydrogen (the full web client from the hydrogen-view-sdk npm package) in headless
 * Chromium (Debian's `chromium`, driven by playwright-core) against a real Sluice server.
 * alice and bob are registered and share a room over HTTP; bob then logs in through
 * Hydrogen's own login screen, sees the room in the room list, opens it, sends a message
 * from the composer (checked on the server through /messages as alice), and sees a message
 * that alice sends over HTTP arrive in the timeline through Hydrogen's /r0/sync loop.
 * Screenshots are kept in test-artifacts/hydrogen-*.png.
 *
 * The page (tests/clients/hydrogen/) is served by a tiny static server on its own loopback
 * port, so Hydrogen talks to Sluice cross-origin, as a hosted web client does (CORS).
 * Chromium is required: without it the test fails, saying how to install it.
 * SLUICE_CHROMIUM names another binary; SLUICE_HYDROGEN_TRACE=1 prints Hydrogen's requests to Sluice.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { api, registerUser, startServer, type TestServer, type TestUser } from "../integration/harness.js";
import { createRoom, enc, joinRoom, roomAction, sendMessage, V3 } from "../integration/room-helpers.js";
import { startStaticServer, type StaticServer } from "./hydrogen/static-server.js";

/** The compiled test lives in dist/tests/clients/. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const PAGE_DIR = join(repoRoot, "tests", "clients", "hydrogen");
const ARTIFACTS = join(repoRoot, "test-artifacts");
const CHROMIUM = process.env.SLUICE_CHROMIUM ?? "/usr/bin/chromium";
/** Flags that work on these machines (no network beyond loopback, running as root). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ROOM_NAME = "Hydrogen meets Sluice";

/** Polls `check` every `intervalMs` until it returns a truthy value, at most `tries` times. */
async function pollFor<T>(what: string, check: () => Promise<T | null | undefined | false>, diagnose: () => Promise<string>, opts: { tries?: number; intervalMs?: number } = {}): Promise<T> {
  const tries = opts.tries ?? 300;
  const intervalMs = opts.intervalMs ?? 200;
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  assert.fail(`Hydrogen never reached: ${what} (polled ${tries} times)\n${await diagnose()}`);
}

describe("Hydrogen web client in headless Chromium against Sluice", () => {
  let server: TestServer;
  let statics: StaticServer;
  let browser: Browser | undefined;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  /** What the page did, for failure messages. */
  const hsTraffic: string[] = [];
  const pageLog: string[] = [];

  before(async () => {
    server = await startServer();
    alice = await registerUser(server.baseUrl, "alice", "alice password");
    bob = await registerUser(server.baseUrl, "bob", "bob password");
    roomId = await createRoom(server.baseUrl, alice, { name: ROOM_NAME, preset: "private_chat" });
    const invite = await roomAction(server.baseUrl, alice, roomId, "invite", { user_id: bob.userId });
    assert.equal(invite.status, 200, `invite: ${JSON.stringify(invite.body)}`);
    await joinRoom(server.baseUrl, bob, roomId);
    const first = await sendMessage(server.baseUrl, alice, roomId, { msgtype: "m.text", body: "Welcome, bob (sent before Hydrogen logged in)" });
    assert.equal(first.status, 200, `send: ${JSON.stringify(first.body)}`);
    statics = await startStaticServer({ pageDir: PAGE_DIR, nodeModules: join(repoRoot, "node_modules"), homeserver: server.baseUrl });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await statics?.close();
    await server?.close();
  });

  it("logs in, lists and opens the room, sends a message and receives one", { timeout: 240_000 }, async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium is required for this test and was not found at ${CHROMIUM}: install it with \`apt-get install chromium\` (Debian; .ci/run does this), or set SLUICE_CHROMIUM to its path`,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    const page: Page = await context.newPage();
    page.on("console", (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => pageLog.push(`pageerror: ${e.stack ?? e.message}`));
    context.on("response", (r) => {
      if (r.url().startsWith(server.baseUrl)) hsTraffic.push(`${r.status()} ${r.request().method()} ${r.url().slice(server.baseUrl.length)}`);
    });
    context.on("requestfailed", (r) => {
      if (r.url().startsWith(server.baseUrl)) hsTraffic.push(`FAILED ${r.method()} ${r.url().slice(server.baseUrl.length)}: ${r.failure()?.errorText ?? "?"}`);
    });

    const diagnose = async (): Promise<string> => {
      const shot = join(ARTIFACTS, "hydrogen-failure.png");
      await page.screenshot({ path: shot }).catch(() => undefined);
      const errors = await page.evaluate(() => (globalThis as unknown as { __hydrogenErrors?: string[] }).__hydrogenErrors ?? []).catch(() => ["(page gone)"]);
      const text = await page.locator("body").innerText().catch(() => "(no body)");
      return [
        `screenshot: ${shot}`,
        `page errors: ${JSON.stringify(errors)}`,
        `page text: ${text.slice(0, 1500)}`,
        `homeserver traffic (last 40):\n  ${hsTraffic.slice(-40).join("\n  ")}`,
        `static requests that failed: ${statics.requests.filter((r) => /^[45]/.test(r)).join(", ") || "none"}`,
        `page log (last 30):\n  ${pageLog.slice(-30).join("\n  ")}`,
      ].join("\n");
    };
    const visible = (selector: string, text?: string) => async (): Promise<boolean> => {
      const loc = text === undefined ? page.locator(selector) : page.locator(selector, { hasText: text });
      return (await loc.count()) > 0 && (await loc.first().isVisible());
    };

    // 1. Log in through Hydrogen's own login screen; the homeserver field is prefilled from config.json.
    await page.goto(statics.url + "/");
    await pollFor("the login form (#username)", visible("input#username"), diagnose);
    const homeserverField = page.locator("input#homeserver");
    if ((await homeserverField.count()) > 0) {
      assert.equal(await homeserverField.inputValue(), server.baseUrl, "Hydrogen's homeserver field names the server under test");
    }
    await page.fill("input#username", "bob");
    await page.fill("input#password", bob.password);
    await page.click("button[type=submit]");

    // 2. The room list shows the room (after login, key upload and the first /sync).
    await pollFor(`the room list entry "${ROOM_NAME}"`, visible(".RoomList li .name", ROOM_NAME), diagnose);
    await page.screenshot({ path: join(ARTIFACTS, "hydrogen-room-list.png") });
    assert.ok(hsTraffic.some((l) => /^200 POST \/_matrix\/client\/r0\/login(\?|$)/.test(l)), `Hydrogen logged in over r0:\n${hsTraffic.join("\n")}`);
    assert.ok(hsTraffic.some((l) => /^200 GET \/_matrix\/client\/r0\/sync\?/.test(l)), `Hydrogen synced over r0:\n${hsTraffic.join("\n")}`);

    // 3. Open the room: the timeline shows alice's earlier message and the composer appears.
    await page.locator(".RoomList li a", { hasText: ROOM_NAME }).first().click();
    await pollFor("alice's first message in the opened room", visible(".Timeline_messageBody", "sent before Hydrogen logged in"), diagnose);
    await pollFor("the message composer", visible(".MessageComposer_input textarea"), diagnose);

    // 4. Send from the composer; the server has it (read back as alice).
    const fromBob = `Hello from Hydrogen ${Date.now()}`;
    await page.fill(".MessageComposer_input textarea", fromBob);
    await page.keyboard.press("Enter");
    await pollFor(
      "bob's message stored on the server (/messages as alice)",
      async () => {
        const res = await api<{ chunk: { sender: string; type: string; content: { body?: string } }[] }>(
          server.baseUrl,
          "GET",
          `${V3}/rooms/${enc(roomId)}/messages?dir=b&limit=20`,
          { token: alice.accessToken },
        );
        assert.equal(res.status, 200, `/messages as alice: ${JSON.stringify(res.body)}`);
        return res.body.chunk.some((e) => e.type === "m.room.message" && e.sender === bob.userId && e.content.body === fromBob);
      },
      diagnose,
    );
    // The server may have stored it before the browser has read the response: poll for that too.
    await pollFor(
      "a 200 answer to Hydrogen's PUT r0/rooms/{id}/send",
      async () => hsTraffic.some((l) => /^200 PUT \/_matrix\/client\/r0\/rooms\/[^/]+\/send\/m\.room\.message\/[^/?]+(\?|$)/.test(l)),
      diagnose,
    );
    await pollFor("bob's own message in the timeline", visible(".Timeline_messageBody", fromBob), diagnose);

    // 5. alice sends over HTTP; it arrives in Hydrogen's timeline through its sync loop.
    const fromAlice = `Hi bob, alice here over plain HTTP ${Date.now()}`;
    const sent = await sendMessage(server.baseUrl, alice, roomId, { msgtype: "m.text", body: fromAlice });
    assert.equal(sent.status, 200, `alice's send: ${JSON.stringify(sent.body)}`);
    await pollFor("alice's live message in Hydrogen's timeline", visible(".Timeline_messageBody", fromAlice), diagnose);

    // Both messages are in the timeline in the order they were sent.
    const bodies = await page.locator(".Timeline_messageBody").allInnerTexts();
    const iBob = bodies.findIndex((b) => b.includes(fromBob));
    const iAlice = bodies.findIndex((b) => b.includes(fromAlice));
    assert.ok(iBob >= 0 && iAlice > iBob, `timeline order: ${JSON.stringify(bodies)}`);
    await page.screenshot({ path: join(ARTIFACTS, "hydrogen-conversation.png") });

    if (process.env.SLUICE_HYDROGEN_TRACE) console.log(hsTraffic.join("\n"));
    const errors = await page.evaluate(() => (globalThis as unknown as { __hydrogenErrors?: string[] }).__hydrogenErrors ?? []);
    assert.deepEqual(errors, [], "no uncaught errors in the page");
    const serverErrors = hsTraffic.filter((l) => /^5\d\d /.test(l));
    assert.deepEqual(serverErrors, [], "no 5xx answers to Hydrogen");
  });
});
