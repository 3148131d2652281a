import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeyStoreError, openIssuerKeys } from "../../scripts/local/auth/keys.ts";
import { mintAccessToken } from "../../scripts/local/auth/tokens.ts";

const issuer = "http://127.0.0.1:3000/auth";
const grant = { issuer, clientId: "client-1", username: "alice", scopes: ["todos/read"] };

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "issuer-keys-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const verifies = async (token: string, keys: Awaited<ReturnType<typeof openIssuerKeys>>) =>
  jwtVerify(token, createLocalJWKSet(keys.jwks()), { issuer, algorithms: ["RS256"] }).then(
    () => true,
    () => false,
  );

describe("the issuer's keys", () => {
  it("are made on first start and kept in a file only its owner can read", async () => {
    const file = join(dataDir, "issuer", "keys.json");
    const keys = await openIssuerKeys({ file });
    expect(keys.file).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, "utf8"));
    expect(stored.signingKeys).toHaveLength(1);
    expect(stored.signingKeys[0].kid).toBe(keys.current().kid);
  });

  it("survive a restart on the same folder: same kid, same subs, old tokens still verify", async () => {
    const file = join(dataDir, "issuer", "keys.json");
    const before = await openIssuerKeys({ file });
    const token = await mintAccessToken(before, grant);
    const aliceBefore = before.subjectOf("alice");

    const after = await openIssuerKeys({ file });
    expect(after.current().kid).toBe(before.current().kid);
    expect(after.subjectOf("alice")).toBe(aliceBefore);
    expect(await verifies(token, after)).toBe(true);
  });

  it("in memory are new on every start, and the tokens of a previous start fail", async () => {
    const first = await openIssuerKeys();
    const second = await openIssuerKeys();
    expect(first.file).toBeUndefined();
    expect(second.current().kid).not.toBe(first.current().kid);
    expect(second.subjectOf("alice")).not.toBe(first.subjectOf("alice"));
    expect(await verifies(await mintAccessToken(first, grant), second)).toBe(false);
  });

  it("give each username its own stable UUID sub", async () => {
    const keys = await openIssuerKeys();
    const alice = keys.subjectOf("alice");
    expect(alice).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(keys.subjectOf("alice")).toBe(alice);
    expect(keys.subjectOf("bob")).not.toBe(alice);
  });

  it("rotate: the new key signs, the old one stays published until it is retired", async () => {
    const file = join(dataDir, "keys.json");
    const keys = await openIssuerKeys({ file });
    const oldKid = keys.current().kid;
    const oldToken = await mintAccessToken(keys, grant);

    const newKid = await keys.rotate();
    expect(newKid).not.toBe(oldKid);
    expect(keys.jwks().keys.map((key) => key.kid)).toEqual([oldKid, newKid]);
    const newToken = await mintAccessToken(keys, grant);
    expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
    expect(await verifies(oldToken, keys)).toBe(true);

    await keys.retire(oldKid);
    expect(keys.jwks().keys.map((key) => key.kid)).toEqual([newKid]);
    expect(await verifies(oldToken, keys)).toBe(false);
    expect(await verifies(newToken, keys)).toBe(true);
    // The retirement is kept too.
    const reopened = await openIssuerKeys({ file });
    expect(reopened.jwks().keys.map((key) => key.kid)).toEqual([newKid]);
    await expect(keys.retire(newKid)).rejects.toThrow(KeyStoreError);
  });

  it("publish only public halves", async () => {
    const keys = await openIssuerKeys();
    const [published] = keys.jwks().keys;
    expect(Object.keys(published ?? {}).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
  });

  it("refuse a file that is not theirs instead of overwriting it", async () => {
    const file = join(dataDir, "keys.json");
    await writeFile(file, '{"something": "else"}');
    await expect(openIssuerKeys({ file })).rejects.toThrow(KeyStoreError);
    await writeFile(file, "not json");
    await expect(openIssuerKeys({ file })).rejects.toThrow(/not JSON/);
    expect(await readFile(file, "utf8")).toBe("not json");
  });
});
