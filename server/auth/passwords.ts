import { randomBytes } from "node:crypto";
import {
  hash as argon2Hash,
  argon2id,
  needsRehash as argon2NeedsRehash,
  verify as argon2Verify,
} from "argon2";
import { DomainError } from "../domain/errors";

/** AUTH-1 password policy: long passphrases welcome, but bounded so hashing cannot be abused. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 200;

/**
 * argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): ~25 ms per hash on
 * this 2-core box, so the libuv pool (4 threads) hashes ~80 logins/s without starving the event
 * loop, while an offline guess still costs 19 MiB of memory.
 */
export const ARGON2_OPTIONS = {
  type: argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

function checkLength(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new DomainError(
      "invalid_input",
      `password must be ${PASSWORD_MIN_LENGTH}..${PASSWORD_MAX_LENGTH} characters`,
    );
  }
}

/** The PHC string (`$argon2id$v=19$m=…`) of a password within the policy's length. */
export function hashPassword(password: string): Promise<string> {
  checkLength(password);
  return argon2Hash(password, ARGON2_OPTIONS);
}

/**
 * True when `password` matches `hash`. The comparison inside argon2 is constant-time; a hash that
 * is not a PHC string (a seeded or disabled account) never matches and never throws.
 */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH) return false;
  try {
    return await argon2Verify(hash, password);
  } catch {
    return false;
  }
}

/** True when a stored hash was made with weaker or older parameters (rehash on the next login). */
export function needsRehash(hash: string): boolean {
  try {
    return (
      !hash.startsWith("$argon2id$") ||
      argon2NeedsRehash(hash, {
        memoryCost: ARGON2_OPTIONS.memoryCost,
        timeCost: ARGON2_OPTIONS.timeCost,
        parallelism: ARGON2_OPTIONS.parallelism,
      })
    );
  } catch {
    return true;
  }
}

/**
 * A hash of a random secret with the current parameters: verifying against it when the email is
 * unknown makes that answer cost the same time as a wrong password (no user enumeration by timing).
 */
export function createDummyHash(): Promise<string> {
  return argon2Hash(randomBytes(32).toString("base64url"), ARGON2_OPTIONS);
}
