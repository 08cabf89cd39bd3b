import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JSONWebKeySet,
  type JWK,
} from "jose";
import { ConfigError } from "../env";

export const JWT_ALG = "ES256";

export interface SigningKeys {
  kid: string;
  privateKey: CryptoKey;
  /** Every public key still accepted (the current one first): published at /.well-known/jwks.json. */
  jwks: JSONWebKeySet;
}

async function publicJwk(privateKey: CryptoKey, kid?: string): Promise<JWK> {
  const jwk = await exportJWK(privateKey);
  const { d: _secret, ...pub } = jwk;
  return { ...pub, kid: kid ?? (await calculateJwkThumbprint(pub)), alg: JWT_ALG, use: "sig" };
}

async function importPrivate(text: string): Promise<{ key: CryptoKey; kid?: string }> {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    const jwk = JSON.parse(trimmed) as JWK;
    return { key: (await importJWK(jwk, JWT_ALG, { extractable: true })) as CryptoKey, kid: jwk.kid };
  }
  return { key: await importPKCS8(trimmed.replace(/\\n/g, "\n"), JWT_ALG, { extractable: true }) };
}

/**
 * AUTH-2: the signing key and the accepted public keys. Production takes them from
 * `JWT_PRIVATE_KEY` (PKCS#8 PEM or JWK) and `JWT_PUBLIC_KEYS` (a JWKS); single-node mode
 * generates an ES256 key pair into `DATA_DIR/keys` once and reuses it.
 */
export async function loadSigningKeys(opts: {
  privateKey?: string;
  publicKeys?: string;
  dataDir: string;
}): Promise<SigningKeys> {
  if (opts.privateKey) {
    let imported: { key: CryptoKey; kid?: string };
    try {
      imported = await importPrivate(opts.privateKey);
    } catch (error) {
      throw new ConfigError(
        "JWT_PRIVATE_KEY",
        `is not an ${JWT_ALG} private key (${(error as Error).message})`,
      );
    }
    const current = await publicJwk(imported.key, imported.kid);
    let others: JWK[] = [];
    if (opts.publicKeys) {
      try {
        others = (JSON.parse(opts.publicKeys) as JSONWebKeySet).keys.filter((k) => k.kid !== current.kid);
      } catch {
        throw new ConfigError("JWT_PUBLIC_KEYS", "is not a JWKS JSON document");
      }
    }
    return { kid: current.kid!, privateKey: imported.key, jwks: { keys: [current, ...others] } };
  }
  const dir = path.resolve(opts.dataDir, "keys");
  const file = path.join(dir, "jwt-es256.pem");
  let pem: string;
  try {
    pem = await readFile(file, "utf8");
  } catch {
    const pair = await generateKeyPair(JWT_ALG, { extractable: true });
    pem = await exportPKCS8(pair.privateKey);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(file, pem, { mode: 0o600, flag: "wx" }).catch(async (error: NodeJS.ErrnoException) => {
      // Another process won the race: use its key.
      if (error.code !== "EEXIST") throw error;
      pem = await readFile(file, "utf8");
    });
  }
  const key = await importPKCS8(pem, JWT_ALG, { extractable: true });
  const current = await publicJwk(key);
  return { kid: current.kid!, privateKey: key, jwks: { keys: [current] } };
}
