import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { type PresenceEngine, PresenceTracker } from "../../lib/presence";
import type { SyncEngine } from "../../lib/sync";
import { PresenceBar } from "./PresenceBar";
import { RemoteCursors } from "./RemoteCursors";
import { TypingIndicator } from "./TypingIndicator";

const ME = { user_id: "00000000-0000-4000-8000-000000000001", name: "Me Myself" };
const ADA = { user_id: "00000000-0000-4000-8000-00000000000a", name: "Ada Lovelace" };

function trackerWith(events: unknown[]) {
  let emit: (event: unknown) => void = () => {};
  const engine: PresenceEngine = {
    sendPresence: () => {},
    onPresence: (listener) => {
      emit = listener;
      return () => {};
    },
  };
  const tracker = new PresenceTracker({
    engine,
    me: ME,
    fetchOnline: () => new Promise(() => {}),
    visibility: { isVisible: () => true, onChange: () => () => {} },
  });
  tracker.start();
  for (const event of events) emit(event);
  return tracker;
}

const html = (element: ReturnType<typeof createElement>) => renderToStaticMarkup(element);

describe("UI-2: presence components (server-rendered markup)", () => {
  it("UI-2: 'Online now' lists me first, marked (you), then the others by name with initials", () => {
    const tracker = trackerWith([{ type: "join", users: [ADA] }]);
    const out = html(createElement(PresenceBar, { tracker, state: { connection: "live", pendingCount: 0 } }));
    expect(out).toMatch(/<ul aria-label="Online now"/);
    const items = [...out.matchAll(/<li [^>]*aria-label="([^"]+)"[^>]*>/g)].map((m) => m[1]);
    expect(items).toEqual(["Me Myself", "Ada Lovelace"]);
    expect(out).toContain('title="Me Myself (you)"');
    expect(out).toContain(">(you)<");
    expect(out).toContain(">AL<");
    tracker.stop();
  });

  it("UI-2: the connection status is named Connection and shows the state and '{n} unsent'", () => {
    const out = html(
      createElement(PresenceBar, { tracker: null, state: { connection: "reconnecting", pendingCount: 2 } }),
    );
    const status = out.match(/<div role="status" aria-label="Connection"[^>]*>(.*?)<\/div>/)?.[1] ?? "";
    expect(status.replace(/<[^>]+>/g, "")).toBe("Reconnecting…·2 unsent");
    const live = html(
      createElement(PresenceBar, { tracker: null, state: { connection: "polling", pendingCount: 0 } }),
    );
    expect(live).toMatch(/title="[^"]*polling[^"]*"/);
    expect(live).not.toContain("unsent");
  });

  it("UI-2: '{name} is typing…' inside a polite live region", () => {
    const tracker = trackerWith([
      { type: "presence", user_id: ADA.user_id, name: ADA.name, cursor: null, typing: true, block_id: "b1" },
    ]);
    const out = html(createElement(TypingIndicator, { tracker }));
    expect(out).toMatch(/^<div aria-live="polite"/);
    expect(out.replace(/<[^>]+>/g, "")).toBe("Ada Lovelace is typing…");
    tracker.stop();
  });

  it("UI-2: a remote cursor is rendered with its test id and '{name}'s cursor'; none without a cursor", () => {
    const tracker = trackerWith([
      { type: "presence", user_id: ADA.user_id, name: ADA.name, cursor: { x: 3, y: 4 }, block_id: "b1" },
      { type: "join", users: [{ user_id: "00000000-0000-4000-8000-00000000000b", name: "Bo" }] },
    ]);
    const out = html(createElement(RemoteCursors, { tracker, containerRef: { current: null } }));
    const cursors = out.match(/data-testid="remote-cursor"/g) ?? [];
    expect(cursors).toHaveLength(1);
    expect(out).toContain(`aria-label="Ada Lovelace&#x27;s cursor"`);
    expect(out).toContain('data-target-block="b1"');
    tracker.stop();
  });

  it("the SyncEngine is a PresenceEngine (checked by tsc)", () => {
    const fits = (engine: SyncEngine): PresenceEngine => engine;
    expect(fits).toBeTypeOf("function");
  });
});
