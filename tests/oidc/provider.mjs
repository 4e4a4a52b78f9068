// A real OpenID Connect provider (the certified `oidc-provider` package) for the sign-in tests of
// contract section 14. It is never part of the service: tests start it, drive it and stop it.
//
//   node provider.mjs --port 4100 --client-id myocit --client-secret s3cret \
//     --redirect-uri http://127.0.0.1:8000/ui/oidc/callback \
//     --post-logout-redirect-uri http://127.0.0.1:8000/ui/login \
//     --accounts accounts.json [--ttl IdToken=60 ...] [--groups-scope-only]
//
// Every option may also come from the environment (OIDC_PORT, OIDC_ISSUER, OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS and OIDC_POST_LOGOUT_REDIRECT_URIS space-separated,
// OIDC_ACCOUNTS, OIDC_TTLS as "Name=seconds,Name=seconds").
//
// accounts.json: {"<sub>": {"name": "...", "email": "...", "groups": ["..."]}, ...}. It is read
// again at every look-up, so a test rewrites it to change someone's groups between two sign-ins.
// The provider's own (development) login form takes the `sub` as login and any password.
//
// Test-only control routes (the provider listens on 127.0.0.1 only):
//   POST /__test__/keys          adds a new RS256 key, which signs from then on; answers {"kid": ...}.
//                                The earlier keys stay in the JWKS, as in a real rotation.
//   POST /__test__/keys?replace  the new key replaces every earlier one.
//   GET  /__test__/keys          {"kids": [...]}, the signing key first.
// Prints one line "ready <issuer>" once it listens.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const env = process.env;
const words = (value) => (value ? value.split(/[\s,]+/).filter(Boolean) : []);

const { values: options } = parseArgs({
  options: {
    port: { type: 'string', default: env.OIDC_PORT },
    issuer: { type: 'string', default: env.OIDC_ISSUER },
    'client-id': { type: 'string', default: env.OIDC_CLIENT_ID },
    'client-secret': { type: 'string', default: env.OIDC_CLIENT_SECRET },
    'redirect-uri': { type: 'string', multiple: true, default: words(env.OIDC_REDIRECT_URIS) },
    'post-logout-redirect-uri': {
      type: 'string', multiple: true, default: words(env.OIDC_POST_LOGOUT_REDIRECT_URIS),
    },
    accounts: { type: 'string', default: env.OIDC_ACCOUNTS },
    ttl: { type: 'string', multiple: true, default: words(env.OIDC_TTLS) },
    'groups-scope-only': { type: 'boolean', default: env.OIDC_GROUPS_SCOPE_ONLY === '1' },
  },
});

function required(name) {
  const value = options[name];
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
    process.stderr.write(`provider.mjs: --${name} is required\n`);
    process.exit(2);
  }
  return value;
}

const port = Number(required('port'));
const issuer = options.issuer || `http://127.0.0.1:${port}`;
const accountsPath = required('accounts');

// Short lifetimes keep expiry tests quick; anything not named keeps the package's default.
const ttl = {};
for (const entry of options.ttl) {
  const [name, seconds] = entry.split('=');
  if (!name || !Number.isInteger(Number(seconds))) {
    process.stderr.write(`provider.mjs: --ttl wants Name=seconds, got ${entry}\n`);
    process.exit(2);
  }
  ttl[name] = Number(seconds);
}

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

function readAccounts() {
  return JSON.parse(readFileSync(accountsPath, 'utf8'));
}

const client = {
  client_id: required('client-id'),
  client_secret: required('client-secret'),
  redirect_uris: required('redirect-uri'),
  post_logout_redirect_uris: options['post-logout-redirect-uri'],
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  id_token_signed_response_alg: 'RS256',
};

// The same cookie keys across key rotations, so a browser's session at the provider survives them.
const cookieKeys = [randomBytes(32).toString('hex')];

function configuration(keys) {
  return {
    clients: [client],
    jwks: { keys },
    cookies: { keys: cookieKeys },
    pkce: { required: () => true },
    async findAccount(_ctx, sub) {
      const account = readAccounts()[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            name: account.name,
            email: account.email,
            email_verified: account.email !== undefined,
            groups: account.groups ?? [],
          };
        },
      };
    },
    claims: {
      // Hospital providers (Keycloak, Entra ID) put groups in the ID token without a scope asking.
      openid: options['groups-scope-only'] ? ['sub'] : ['sub', 'groups'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    scopes: ['openid', 'profile', 'email', 'groups'],
    // Claims of the granted scopes go in the ID token too, not only behind the userinfo endpoint.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      userinfo: { enabled: true },
    },
    ttl,
  };
}

let keys = [newSigningKey()];
let provider = new Provider(issuer, configuration(keys));
let handler = provider.callback();

function publicKid(key) {
  return key.kid;
}

function rotate(replace) {
  const added = newSigningKey();
  // oidc-provider signs with the first key of a kind, so the new key goes first.
  keys = replace ? [added] : [added, ...keys];
  // Sessions, grants and codes live in the package's in-memory adapter, shared by every instance.
  provider = new Provider(issuer, configuration(keys));
  handler = provider.callback();
  return added.kid;
}

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = createServer((req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/__test__/keys') {
    if (req.method === 'POST') {
      answer(res, 200, { kid: rotate(url.searchParams.has('replace')) });
    } else {
      answer(res, 200, { kids: keys.map(publicKid) });
    }
    return;
  }
  handler(req, res);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
