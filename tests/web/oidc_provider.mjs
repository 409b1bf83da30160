// A real OpenID provider for the tests: the certified `oidc-provider` package (npm,
// pinned in package.json), on a loopback port, with one confidential client and the test
// users given in OP_ACCOUNTS. Its development login form takes any password; the login
// name is the account's `sub`. Users carry an organisation code and NHS CIS2-style role
// claims (`nhsid_nrbac_roles`), released under the `organisation` scope.
//
//   OP_PORT=5xxxx OP_CLIENT_ID=index OP_CLIENT_SECRET=... OP_REDIRECT_URI=http://.../sign-in/callback \
//   OP_ACCOUNTS='{"ed-1": {"name": "...", "email": "...", "org_code": "...", "nhsid_nrbac_roles": [...]}}' \
//   node tests/web/oidc_provider.mjs
import Provider from "oidc-provider";

const port = Number(process.env.OP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OP_ACCOUNTS || "{}");

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OP_CLIENT_ID,
      client_secret: process.env.OP_CLIENT_SECRET,
      redirect_uris: [process.env.OP_REDIRECT_URI],
      post_logout_redirect_uris: [new URL("/signed-out", process.env.OP_REDIRECT_URI).href],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ["sub"],
    profile: ["name"],
    email: ["email"],
    organisation: ["org_code", "nhsid_nrbac_roles"],
  },
  conformIdTokenClaims: false, // the ID token carries the scopes' claims itself
  cookies: { keys: ["test-only-cookie-key"] },
  findAccount: async (ctx, sub) => {
    if (!(sub in accounts)) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...accounts[sub] }) };
  },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;
const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
