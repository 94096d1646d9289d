/** Registration tokens must not be guessable without limit through one UIA session. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, startServer, type TestServer } from "./harness.js";

describe("registration token guessing is rate limited", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      registration: { mode: "token", tokens: ["right-token"] },
      rateLimits: { registerPerAddress: { perSecond: 0.001, burst: 3 } },
    });
  });
  after(() => server.close());

  it("counts every m.login.registration_token attempt, even inside one session", async () => {
    const first = await api<{ session: string }>(server.baseUrl, "POST", "/_matrix/client/v3/register", { body: { username: "guesser", password: "pw" } });
    assert.equal(first.status, 401);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await api(server.baseUrl, "POST", "/_matrix/client/v3/register", {
        body: { username: "guesser", password: "pw", auth: { type: "m.login.registration_token", token: `guess-${i}`, session: first.body.session } },
      });
      statuses.push(r.status);
      if (r.status === 429) assert.equal(r.body.errcode, "M_LIMIT_EXCEEDED");
    }
    // burst 3: the opening request and two guesses pass (401 wrong token), then 429.
    assert.deepEqual(statuses, [401, 401, 429, 429]);
  });
});
