import { describe, expect, it } from "vitest";
import { lastEdited, relativeTime } from "./relativeTime";

const NOW = Date.parse("2026-11-26T12:00:00Z");
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

describe("relativeTime", () => {
  it("says just now for the last 45 seconds and for clocks slightly ahead", () => {
    expect(relativeTime(ago(0), NOW)).toBe("just now");
    expect(relativeTime(ago(44), NOW)).toBe("just now");
    expect(relativeTime(ago(-30), NOW)).toBe("just now");
  });

  it("picks the coarsest unit that fits, in words", () => {
    expect(relativeTime(ago(50), NOW)).toBe("1 minute ago");
    expect(relativeTime(ago(5 * 60 + 20), NOW)).toBe("5 minutes ago");
    expect(relativeTime(ago(3600), NOW)).toBe("1 hour ago");
    expect(relativeTime(ago(5 * 3600), NOW)).toBe("5 hours ago");
    expect(relativeTime(ago(24 * 3600), NOW)).toBe("yesterday");
    expect(relativeTime(ago(3 * 24 * 3600), NOW)).toBe("3 days ago");
    expect(relativeTime(ago(7 * 24 * 3600), NOW)).toBe("last week");
    expect(relativeTime(ago(20 * 24 * 3600), NOW)).toBe("2 weeks ago");
    expect(relativeTime(ago(45 * 24 * 3600), NOW)).toBe("last month");
    expect(relativeTime(ago(800 * 24 * 3600), NOW)).toBe("2 years ago");
  });

  it("accepts a Date and returns nothing for an unreadable timestamp", () => {
    expect(relativeTime(new Date(NOW - 120_000), NOW)).toBe("2 minutes ago");
    expect(relativeTime("not a date", NOW)).toBe("");
  });
});

describe("lastEdited", () => {
  it("takes the later of the canvas's update and its last block change", () => {
    expect(lastEdited({ updated_at: ago(600), last_change_at: ago(60) })).toBe(ago(60));
    expect(lastEdited({ updated_at: ago(60), last_change_at: ago(600) })).toBe(ago(60));
    expect(lastEdited({ updated_at: ago(60), last_change_at: null })).toBe(ago(60));
  });
});
