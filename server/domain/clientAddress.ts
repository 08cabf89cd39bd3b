/**
 * SEC-4: the client address (rate limits, audit) behind proxies. A hop in `X-Forwarded-For` is
 * only as good as whoever appended it: a proxy we trust appends the address of its own peer, and
 * everything to the left of that was sent by the client. So the client is the rightmost hop that
 * is not one of our proxies; a header that did not come from one of them is ignored altogether.
 */
import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Parsed `TRUSTED_PROXIES`: address ranges whose `X-Forwarded-For` hops are believed. */
export type TrustedProxies = readonly (readonly [Address, number])[];

/** Names accepted in `TRUSTED_PROXIES` besides addresses and CIDRs. */
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ["127.0.0.0/8", "::1/128"],
};

/**
 * Parses a comma-separated list of addresses, CIDRs and `loopback`; throws naming the first bad
 * entry. Empty: no proxy is trusted.
 */
export function parseTrustedProxies(text: string): TrustedProxies {
  const ranges: [Address, number][] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    for (const item of NAMED_RANGES[entry.toLowerCase()] ?? [entry]) {
      const range = parseRange(item);
      if (!range) throw new Error(`"${entry}" is not an IP address or CIDR`);
      ranges.push(range);
    }
  }
  return ranges;
}

function parseRange(item: string): [Address, number] | undefined {
  if (item.includes("/")) {
    if (!ipaddr.isValidCIDR(item)) return undefined;
    const [address, bits] = ipaddr.parseCIDR(item);
    // An IPv4-mapped range (::ffff:10.0.0.0/104) is matched as the IPv4 range it names.
    if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
      return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
    }
    return [address, bits];
  }
  const address = parseAddress(item);
  if (!address) return undefined;
  return [address, address.kind() === "ipv4" ? 32 : 128];
}

/**
 * One address, strictly: dotted-quad IPv4 or IPv6 (IPv4-mapped IPv6 becomes IPv4), optionally
 * with a port (`1.2.3.4:80`, `[::1]:80`, as some proxies write). Anything else is not an address.
 */
function parseAddress(text: string): Address | undefined {
  let s = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return ipaddr.IPv4.parse(s);
  if (s.includes(":") && ipaddr.IPv6.isValid(s)) return ipaddr.process(s);
  return undefined;
}

function isTrusted(address: Address, trusted: TrustedProxies): boolean {
  return trusted.some(([range, bits]) => address.kind() === range.kind() && address.match(range, bits));
}

/**
 * The client address of a request that reached us from `peer` (the socket's remote address)
 * carrying `forwardedFor` (every `X-Forwarded-For` line, as Node joins them: "a, b"). Walks from
 * the right: while the current hop is a trusted proxy, the hop to its left is what it saw. A hop
 * that is not an address ends the walk at the last address known (a trusted proxy never writes
 * one, so it came from a client).
 */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trusted: TrustedProxies,
): string {
  const peerAddress = peer ? parseAddress(peer) : undefined;
  if (!peerAddress) return peer || "unknown";
  let current: Address = peerAddress;
  if (trusted.length === 0 || forwardedFor === undefined) return current.toString();
  const hops = (typeof forwardedFor === "string" ? [forwardedFor] : forwardedFor)
    .flatMap((line) => line.split(","))
    .map((hop) => hop.trim())
    .filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0 && isTrusted(current, trusted); i--) {
    const hop = parseAddress(hops[i]!);
    if (!hop) break;
    current = hop;
  }
  return current.toString();
}
