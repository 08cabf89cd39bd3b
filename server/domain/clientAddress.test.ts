import { describe, expect, it } from "vitest";
import { parseTrustedProxies, resolveClientAddress } from "./clientAddress";

const none = parseTrustedProxies("");
const loopback = parseTrustedProxies("loopback");
const lbAndWeb = parseTrustedProxies("10.0.0.0/8, 127.0.0.1, ::1");

describe("SEC-4 client address", () => {
  it("SEC-4: with no trusted proxies (the default) the header is ignored, even from loopback", () => {
    expect(resolveClientAddress("127.0.0.1", "203.0.113.7", none)).toBe("127.0.0.1");
    expect(resolveClientAddress("::ffff:127.0.0.1", "203.0.113.7", none)).toBe("127.0.0.1");
  });

  it("SEC-4: a header from a peer that is not a trusted proxy is ignored", () => {
    expect(resolveClientAddress("198.51.100.9", "203.0.113.7", loopback)).toBe("198.51.100.9");
  });

  it("SEC-4: the rightmost untrusted hop wins, not the leftmost (an appending proxy keeps the client's forgery on the left)", () => {
    // client 198.51.100.9 forged "1.2.3.4"; the load balancer 10.0.0.5 appended the real peer.
    expect(resolveClientAddress("10.0.0.5", "1.2.3.4, 198.51.100.9", lbAndWeb)).toBe("198.51.100.9");
    // Two proxies of ours: web app (127.0.0.1) behind the load balancer (10.0.0.5).
    expect(resolveClientAddress("127.0.0.1", "1.2.3.4, 198.51.100.9, 10.0.0.5", lbAndWeb)).toBe(
      "198.51.100.9",
    );
  });

  it("SEC-4: several header lines (joined by Node, or given as an array) are one list", () => {
    expect(resolveClientAddress("127.0.0.1", ["1.2.3.4", "198.51.100.9"], loopback)).toBe("198.51.100.9");
    expect(resolveClientAddress("127.0.0.1", "1.2.3.4, 5.6.7.8, 198.51.100.9", loopback)).toBe(
      "198.51.100.9",
    );
  });

  it("SEC-4: a hop that is not an address ends the walk at the last address known", () => {
    expect(resolveClientAddress("127.0.0.1", "garbage", loopback)).toBe("127.0.0.1");
    expect(resolveClientAddress("127.0.0.1", "198.51.100.9, ", loopback)).toBe("198.51.100.9");
    expect(resolveClientAddress("127.0.0.1", "1.2.3.4, 0x7f.1", loopback)).toBe("127.0.0.1");
    expect(resolveClientAddress("127.0.0.1", "", loopback)).toBe("127.0.0.1");
  });

  it("SEC-4: if every hop is trusted, the leftmost (the first proxy's peer) is the client", () => {
    expect(resolveClientAddress("127.0.0.1", "127.0.0.1, 10.1.2.3", lbAndWeb)).toBe("127.0.0.1");
  });

  it("SEC-4: IPv6, IPv4-mapped and ported hops are normalised", () => {
    expect(resolveClientAddress("::1", "2001:db8::1", loopback)).toBe("2001:db8::1");
    expect(resolveClientAddress("::1", "::ffff:198.51.100.9", loopback)).toBe("198.51.100.9");
    expect(resolveClientAddress("::1", "198.51.100.9:4711", loopback)).toBe("198.51.100.9");
    expect(resolveClientAddress("::1", "[2001:db8::2]:443", loopback)).toBe("2001:db8::2");
  });

  it("SEC-4: TRUSTED_PROXIES takes addresses, CIDRs and 'loopback'; anything else is refused", () => {
    expect(parseTrustedProxies(" 10.0.0.0/8 ,192.168.1.1, fd00::/8, loopback")).toHaveLength(5);
    expect(() => parseTrustedProxies("10.0.0.0/33")).toThrow('"10.0.0.0/33"');
    expect(() => parseTrustedProxies("example.com")).toThrow("example.com");
  });
});

describe("SEC-4 TRUSTED_PROXIES setting", () => {
  it("SEC-4: unset trusts no proxy; a bad entry stops the start naming TRUSTED_PROXIES", async () => {
    const { ConfigError, parseEnv } = await import("../env");
    expect(parseEnv({}).TRUSTED_PROXIES).toEqual([]);
    expect(parseEnv({ TRUSTED_PROXIES: "loopback,10.0.0.0/8" }).TRUSTED_PROXIES).toHaveLength(3);
    expect(() => parseEnv({ TRUSTED_PROXIES: "10.0.0.0/99" })).toThrow(ConfigError);
    expect(() => parseEnv({ TRUSTED_PROXIES: "10.0.0.0/99" })).toThrow(/TRUSTED_PROXIES/);
  });
});
