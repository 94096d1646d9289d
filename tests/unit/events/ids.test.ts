import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { newRoomId, parseEventId, parseRoomId, parseServerName } from "../../../src/events/ids.js";
import { InvalidParamError } from "../../../src/errors/matrix-error.js";

describe("parseRoomId", () => {
  it("accepts !opaque:server forms", () => {
    for (const id of ["!abc:example.org", "!abc:example.org:8448", "!a:[::1]:8448", "!a:1.2.3.4", "!weird/+=é:example.org"]) {
      assert.equal(parseRoomId(id), id);
    }
  });

  it("rejects other shapes", () => {
    for (const id of ["abc:example.org", "!:example.org", "!abc", "!abc:", "!abc:bad host", "#a:example.org", `!${"a".repeat(250)}:example.org`, "!a\u0000b:x"]) {
      assert.throws(() => parseRoomId(id), InvalidParamError, id);
    }
  });
});

describe("parseEventId", () => {
  it("accepts v4+ (URL-safe), v3 (standard base64) and v1/v2 ($local:server) forms", () => {
    for (const id of [
      "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg",
      "$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk",
      "$0:domain",
      "$1435641916114394fHBLK:matrix.org",
    ]) {
      assert.equal(parseEventId(id), id);
    }
  });

  it("rejects other shapes", () => {
    for (const id of ["", "$", "$short", "Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg=", "$a:", "!a:b"]) {
      assert.throws(() => parseEventId(id), InvalidParamError, id);
    }
  });
});

describe("newRoomId", () => {
  it("makes !<18 letters>:server ids that parse, and differ", () => {
    const server = parseServerName("example.org");
    const a = newRoomId(server);
    assert.match(a, /^![A-Za-z]{18}:example\.org$/);
    assert.equal(parseRoomId(a), a);
    assert.notEqual(newRoomId(server), a);
  });
});
