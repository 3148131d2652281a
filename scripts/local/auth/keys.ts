// The local issuer's keys: RS256 signing key pairs (the newest signs, every one still kept
// is published in the JWKS, so a rotation does not break tokens already handed out) and a
// secret that seals refresh tokens and derives each user's stable `sub`. Kept in one JSON
// file (mode 0600) under the runtime's data folder so tokens survive a restart, or only in
// memory. Every key operation goes through jose; nothing here signs or verifies by hand.
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
} from "jose";

export const signingAlgorithm = "RS256";

interface StoredSigningKey {
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

interface StoredKeys {
  version: 1;
  /** Newest last: the last one signs. */
  signingKeys: StoredSigningKey[];
  /** base64url, 32 bytes: seals refresh tokens (A256GCM) and salts the users' `sub`. */
  secret: string;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

export interface IssuerKeys {
  /** Where the keys are kept; undefined when only in memory. */
  readonly file: string | undefined;
  /** The key that signs new tokens. */
  current(): SigningKey;
  /** The public halves of every key kept: what /.well-known/jwks.json publishes. */
  jwks(): JSONWebKeySet;
  /** The 32-byte key that seals refresh tokens. */
  sealingKey(): Uint8Array;
  /** A stable UUID for a username: the same on every start with the same keys. */
  subjectOf(username: string): string;
  /** Makes a new signing key current; the previous ones stay published. Returns its kid. */
  rotate(): Promise<string>;
  /** Drops a key: tokens it signed no longer verify. */
  retire(kid: string): Promise<void>;
}

export class KeyStoreError extends Error {
  override name = "KeyStoreError";
}

async function newSigningKey(): Promise<StoredSigningKey> {
  const { privateKey } = await generateKeyPair(signingAlgorithm, {
    modulusLength: 2048,
    extractable: true,
  });
  const privateJwk = await exportJWK(privateKey);
  // The RFC 7638 thumbprint names the key by its public half: stable and collision-free.
  const kid = await calculateJwkThumbprint({
    kty: privateJwk.kty,
    n: privateJwk.n,
    e: privateJwk.e,
  } as JWK);
  return { kid, createdAt: new Date().toISOString(), privateJwk };
}

function publicHalf(key: StoredSigningKey): JWK {
  const { kty, n, e } = key.privateJwk;
  return { kty, n, e, kid: key.kid, alg: signingAlgorithm, use: "sig" } as JWK;
}

function parseStoredKeys(text: string, file: string): StoredKeys {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyStoreError(`${file} is not JSON: delete it to make new keys`);
  }
  const keys = parsed as Partial<StoredKeys>;
  if (
    keys?.version !== 1 ||
    !Array.isArray(keys.signingKeys) ||
    keys.signingKeys.length === 0 ||
    typeof keys.secret !== "string" ||
    Buffer.from(keys.secret, "base64url").length !== 32
  ) {
    throw new KeyStoreError(
      `${file} is not a key file of the local issuer: delete it to start over`,
    );
  }
  return keys as StoredKeys;
}

async function save(file: string, keys: StoredKeys): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Written aside and renamed, so a crash mid-write never leaves half a key file.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  await chmod(partial, 0o600);
  await rename(partial, file);
}

/**
 * Opens the issuer's keys: read from `file` when it exists, made (and written there, mode
 * 0600) when it does not; with no file, made fresh and kept in memory only.
 */
export async function openIssuerKeys(options: { file?: string } = {}): Promise<IssuerKeys> {
  const file = options.file;
  let stored: StoredKeys | undefined;
  if (file) {
    try {
      stored = parseStoredKeys(await readFile(file, "utf8"), file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  if (!stored) {
    stored = {
      version: 1,
      signingKeys: [await newSigningKey()],
      secret: randomBytes(32).toString("base64url"),
    };
    if (file) await save(file, stored);
  }
  const state: StoredKeys = stored;

  const imported = new Map<string, CryptoKey>();
  const importAll = async () => {
    imported.clear();
    for (const key of state.signingKeys) {
      imported.set(key.kid, (await importJWK(key.privateJwk, signingAlgorithm)) as CryptoKey);
    }
  };
  await importAll();
  let published: JSONWebKeySet = { keys: state.signingKeys.map(publicHalf) };
  const secret = Buffer.from(state.secret, "base64url");

  const changed = async () => {
    await importAll();
    // A new object on every change: verifiers cache their key set by identity.
    published = { keys: state.signingKeys.map(publicHalf) };
    if (file) await save(file, state);
  };

  return {
    file,
    current() {
      const newest = state.signingKeys.at(-1) as StoredSigningKey;
      return { kid: newest.kid, privateKey: imported.get(newest.kid) as CryptoKey };
    },
    jwks: () => published,
    sealingKey: () => new Uint8Array(secret),
    subjectOf(username: string) {
      // A name-based UUID (RFC 9562 version 8) from the store's secret and the name: stable
      // for as long as the keys are kept, unguessable without them, like Cognito's subs.
      const bytes = createHash("sha256").update(secret).update(username).digest();
      bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
      bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
      const hex = bytes.subarray(0, 16).toString("hex");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
    async rotate() {
      const key = await newSigningKey();
      state.signingKeys.push(key);
      await changed();
      return key.kid;
    },
    async retire(kid: string) {
      const remaining = state.signingKeys.filter((key) => key.kid !== kid);
      if (remaining.length === state.signingKeys.length) {
        throw new KeyStoreError(`no key ${kid}`);
      }
      if (remaining.length === 0) {
        throw new KeyStoreError("the last signing key cannot be retired: rotate first");
      }
      state.signingKeys = remaining;
      await changed();
    },
  };
}
