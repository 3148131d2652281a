import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readTemplateAuth, TemplateAuthError } from "../../scripts/local/auth/template-auth.ts";
import { loadCfnTemplate, parseCfnTemplate } from "../../scripts/local/cfn-template.ts";
import { resolveLocalApp } from "../../scripts/local/template.ts";

const fixturePath = fileURLToPath(new URL("../fixtures/auth/template.yaml", import.meta.url));

function readFixture(parameterOverrides: Record<string, string> = {}) {
  const template = loadCfnTemplate(fixturePath);
  // The parameters as the runtime resolves them, so the fixture is also one it can serve.
  const app = resolveLocalApp(template, { templatePath: fixturePath, parameterOverrides });
  const warnings: string[] = [];
  const auth = readTemplateAuth(template, {
    parameters: app.parameters,
    warn: (message) => warnings.push(message),
  });
  return { app, auth, warnings };
}

describe("reading the template's sign-in", () => {
  it("finds the user pool, its resource server's scopes and its public app client", () => {
    const { auth, warnings } = readFixture();
    expect(warnings).toEqual([]);
    expect(auth.userPools).toHaveLength(1);
    const [pool] = auth.userPools;
    expect(pool).toMatchObject({ logicalId: "NotesUserPool", name: "notes-users" });
    expect(pool?.userPoolId).toMatch(/^us-east-1_[0-9A-Za-z]{9}$/);
    expect(pool?.arn).toBe(
      `arn:aws:cognito-idp:us-east-1:123456789012:userpool/${pool?.userPoolId}`,
    );
    expect(pool?.resourceServers).toEqual([
      {
        logicalId: "NotesResourceServer",
        identifier: "todos",
        scopes: ["todos/read", "todos/write"],
      },
    ]);
    expect(pool?.clients).toEqual([
      {
        logicalId: "NotesAppClient",
        clientId: expect.stringMatching(/^[a-z0-9]{26}$/),
        // From a CommaDelimitedList parameter; the !Sub of the resource server's Ref resolves.
        callbackUrls: ["http://127.0.0.1:9/callback", "http://localhost:9/callback"],
        logoutUrls: ["http://127.0.0.1:9/signed-out"],
        allowedScopes: ["openid", "email", "todos/read", "todos/write"],
        allowedFlows: ["code"],
        generateSecret: false,
      },
    ]);
  });

  it("gives the same local ids on every read, and takes parameter overrides", () => {
    const first = readFixture().auth.userPools[0];
    const second = readFixture({ CallbackUrls: "http://127.0.0.1:8080/cb" }).auth.userPools[0];
    expect(second?.userPoolId).toBe(first?.userPoolId);
    expect(second?.clients[0]?.clientId).toBe(first?.clients[0]?.clientId);
    expect(second?.clients[0]?.callbackUrls).toEqual(["http://127.0.0.1:8080/cb"]);
  });

  it("reads the Api's Auth: the Cognito authorizers, the default, the preflight setting", () => {
    const { auth } = readFixture();
    expect(auth.apis).toEqual([
      {
        apiLogicalId: "NotesApi",
        defaultAuthorizer: "NotesAuthorizer",
        addDefaultAuthorizerToCorsPreflight: false,
        authorizers: {
          NotesAuthorizer: {
            name: "NotesAuthorizer",
            userPoolLogicalIds: ["NotesUserPool"],
            identityHeader: "Authorization",
            validationExpression: undefined,
            authorizationScopes: ["todos/read", "todos/write"],
          },
          ByCustomHeader: {
            name: "ByCustomHeader",
            userPoolLogicalIds: ["NotesUserPool"],
            identityHeader: "X-Notes-Token",
            validationExpression: "Bearer [A-Za-z0-9._-]+",
            authorizationScopes: undefined,
          },
        },
      },
    ]);
    expect(auth.poolsOf("NotesApi", "NotesAuthorizer").map((pool) => pool.logicalId)).toEqual([
      "NotesUserPool",
    ]);
  });

  it("says what guards each route, as SAM would put it on the method", () => {
    const { auth, app } = readFixture();
    const scopes = ["todos/read", "todos/write"];
    // Every route the runtime serves has its answer.
    for (const route of app.routes) {
      expect(
        auth.routes.some(
          (auth) => auth.resourcePath === route.resourcePath && auth.method === route.method,
        ),
      ).toBe(true);
    }
    expect(auth.authorizationOf("NotesApi", "/notes", "ANY")).toEqual({
      authorizer: "NotesAuthorizer",
      scopes,
    });
    // AddDefaultAuthorizerToCorsPreflight: false leaves methods named OPTIONS open.
    expect(auth.authorizationOf("NotesApi", "/notes", "OPTIONS")).toBeUndefined();
    // The event's AuthorizationScopes replace the authorizer's.
    expect(auth.authorizationOf("NotesApi", "/notes/{id}", "put")).toEqual({
      authorizer: "NotesAuthorizer",
      scopes: ["todos/write"],
    });
    expect(auth.authorizationOf("NotesApi", "/health", "GET")).toBeUndefined();
    // An authorizer without scopes: ID tokens, as on AWS.
    expect(auth.authorizationOf("NotesApi", "/profile", "GET")).toEqual({
      authorizer: "ByCustomHeader",
      scopes: [],
    });
    expect(auth.authorizationOf("NotesApi", "/nowhere", "GET")).toBeUndefined();
  });
});

const base = `
Resources:
  Pool:
    Type: AWS::Cognito::UserPool
  Server:
    Type: AWS::Cognito::UserPoolResourceServer
    Properties: { UserPoolId: !Ref Pool, Identifier: api, Name: api, Scopes: [{ ScopeName: read, ScopeDescription: r }] }
  Client:
    Type: AWS::Cognito::UserPoolClient
    Properties: { UserPoolId: !Ref Pool, AllowedOAuthScopes: [api/read] }
`;

const read = (yaml: string) => readTemplateAuth(parseCfnTemplate(base + yaml), { parameters: {} });

describe("template sign-in it refuses or reads otherwise", () => {
  it("guards OPTIONS with the default authorizer unless AddDefaultAuthorizerToCorsPreflight is false", () => {
    const auth = read(`
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Cors: { AllowOrigin: "'*'" }
      Auth: { DefaultAuthorizer: Cognito, Authorizers: { Cognito: { UserPoolArn: !GetAtt Pool.Arn, AuthorizationScopes: [api/read] } } }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.b
      Runtime: nodejs24.x
      Events:
        Options: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /x, Method: options } }
`);
    expect(auth.authorizationOf("Api", "/x", "OPTIONS")).toEqual({
      authorizer: "Cognito",
      scopes: ["api/read"],
    });
    expect(auth.apis[0]?.corsPreflight).toEqual({ authorizer: "Cognito", scopes: ["api/read"] });
  });

  it("reads the implicit API's Auth from Globals", () => {
    const auth = read(`
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.b
      Runtime: nodejs24.x
      Events:
        Get: { Type: Api, Properties: { Path: /x, Method: get } }
Globals:
  Api:
    Auth: { DefaultAuthorizer: Cognito, Authorizers: { Cognito: { UserPoolArn: !GetAtt Pool.Arn } } }
`);
    expect(auth.authorizationOf("ServerlessRestApi", "/x", "GET")).toEqual({
      authorizer: "Cognito",
      scopes: [],
    });
  });

  it("refuses a user pool that is not in the template, which no local issuer could sign for", () => {
    expect(() =>
      read(`
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth: { Authorizers: { Cognito: { UserPoolArn: "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_abc" } } }
`),
    ).toThrow(/not a user pool of the template/);
  });

  it("refuses Authorizer: NONE without a DefaultAuthorizer, and unknown authorizers", () => {
    const api = `
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth: { Authorizers: { Cognito: { UserPoolArn: !GetAtt Pool.Arn } } }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.b
      Runtime: nodejs24.x
      Events:
`;
    expect(() =>
      read(
        `${api}        E: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /x, Method: get, Auth: { Authorizer: NONE } } }\n`,
      ),
    ).toThrow(TemplateAuthError);
    expect(() =>
      read(
        `${api}        E: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /x, Method: get, Auth: { Authorizer: Other } } }\n`,
      ),
    ).toThrow(/Other is not a Cognito authorizer/);
  });

  it("refuses an app client allowed a scope no resource server defines", () => {
    expect(() =>
      readTemplateAuth(
        parseCfnTemplate(`${base}
  Other:
    Type: AWS::Cognito::UserPoolClient
    Properties: { UserPoolId: !Ref Pool, AllowedOAuthScopes: [api/admin] }
`),
        { parameters: {} },
      ),
    ).toThrow(/api\/admin/);
  });
});
