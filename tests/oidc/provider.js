// Test only: a real OpenID provider (panva/oidc-provider, OpenID Certified) for tests/e2e/test_accounts_oidc.py.
// PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI and ACCOUNTS (JSON {login: {name, groups}}) come from the test.
// devInteractions: the provider's own login and consent pages (any password is accepted for a known login).
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.ACCOUNTS || "{}");

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: { openid: ["sub"], profile: ["name", "preferred_username", "groups"], email: ["email"] },
  async findAccount(ctx, id) {
    if (!accounts[id]) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: `sub-${id}`, preferred_username: id, name: accounts[id].name, groups: accounts[id].groups || [] };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
  cookies: { keys: ["hotline-test-only"] },
});

provider.listen(port, "127.0.0.1", () => console.log(`oidc-provider ready at ${issuer}`));
