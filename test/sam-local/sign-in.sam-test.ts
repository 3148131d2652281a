// Sign-in through the real SAM CLI, which skips Cognito authorizers: the function verifies the
// bearer token itself against the keys inline in its env file (LOCAL_JWKS). run.sh serves it at
// PRODUCT_API_URL and gives alice's token (signed with those keys) as PRODUCT_API_TOKEN.
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";

const url = process.env.PRODUCT_API_URL;
const token = process.env.PRODUCT_API_TOKEN ?? "";

/** alice's token with the same header and claims, signed by a key LOCAL_JWKS does not hold. */
async function resignedByAnotherKey(kid: string | undefined): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  const header = decodeProtectedHeader(token);
  return new SignJWT(decodeJwt(token))
    .setProtectedHeader({ ...header, alg: "RS256", kid })
    .sign(privateKey);
}

async function expectUnauthorized(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toBe("Bearer");
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(((await response.json()) as { status: number }).status).toBe(401);
}

describe.skipIf(!url)("sign-in under sam local start-api (the function verifies tokens)", () => {
  it("takes alice's token (signed with the keys its env file holds inline)", async () => {
    const response = await fetch(`${url}/todos?limit=1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
  });

  it("answers a request without a token 401", async () => {
    await expectUnauthorized(await fetch(`${url}/todos`));
    await expectUnauthorized(
      await fetch(`${url}/todos`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ title: "no token" }),
      }),
    );
  });

  it("answers a token signed by a key not in LOCAL_JWKS 401, under its kid or another", async () => {
    const { kid } = decodeProtectedHeader(token);
    expect(kid).toEqual(expect.any(String));
    for (const forged of [
      await resignedByAnotherKey(kid),
      await resignedByAnotherKey("elsewhere"),
    ]) {
      await expectUnauthorized(
        await fetch(`${url}/todos`, { headers: { Authorization: `Bearer ${forged}` } }),
      );
    }
  });
});
