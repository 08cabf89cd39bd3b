import { describe, expect, it } from "vitest";
import { DomainError } from "../domain/errors";
import { createDummyHash, hashPassword, needsRehash, verifyPassword } from "./passwords";

describe("passwords", () => {
  it("AUTH-1: hashes are argon2id PHC strings that verify the password and nothing else", async () => {
    const hash = await hashPassword("correct horse battery");
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(hash).not.toContain("correct horse battery");
    expect(await verifyPassword(hash, "correct horse battery")).toBe(true);
    expect(await verifyPassword(hash, "correct horse batterY")).toBe(false);
    // Salted: the same password never gives the same hash.
    expect(await hashPassword("correct horse battery")).not.toBe(hash);
    expect(needsRehash(hash)).toBe(false);
  });

  it("AUTH-1: passwords under 8 or over 200 characters are refused before hashing", async () => {
    for (const bad of ["", "1234567", "x".repeat(201)]) {
      await expect(async () => hashPassword(bad)).rejects.toBeInstanceOf(DomainError);
    }
    await expect(hashPassword("12345678")).resolves.toMatch(/^\$argon2id\$/);
    await expect(hashPassword("x".repeat(200))).resolves.toMatch(/^\$argon2id\$/);
  });

  it("AUTH-1: a malformed or foreign stored hash never verifies and never throws; weak ones need a rehash", async () => {
    expect(await verifyPassword("x", "whatever123")).toBe(false);
    expect(await verifyPassword("$2b$12$abcdefghijklmnopqrstuv", "whatever123")).toBe(false);
    expect(await verifyPassword(await createDummyHash(), "whatever123")).toBe(false);
    expect(needsRehash("x")).toBe(true);
    expect(needsRehash("$argon2id$v=19$m=4096,p=1,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA")).toBe(true);
  });
});
