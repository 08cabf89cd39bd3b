import type { Page } from "@playwright/test";
import {
  addBlock,
  blockItem,
  expectAllSent,
  expectConverged,
  newUser,
  openEditor,
  ownerWithCanvas,
  readBlocks,
  setBlockType,
  signUp,
  typeInto,
} from "./support/app";
import { expect, screen, test } from "./support/fixtures";
import { SocketGate } from "./support/socketGate";

/**
 * UI-4 through the browser: A's type change is held on its socket while B changes the same
 * field and commits, so A's op reaches the server stale and comes back as a conflict.
 */
async function forceTypeConflict(
  a: Page,
  b: Page,
  gate: SocketGate,
  mine: "Heading" | "Code",
  theirs: "Quote" | "Todo",
): Promise<void> {
  await expectAllSent(a);
  await expectAllSent(b);
  gate.hold();
  await setBlockType(a, 1, mine);
  await expect(blockItem(a, 1)).toHaveAttribute("data-block-type", mine.toLowerCase());
  await expect.poll(() => gate.heldCount, { message: "A's mutation is held" }).toBeGreaterThan(0);
  await setBlockType(b, 1, theirs);
  await expectAllSent(b);
  // B's change has reached A's engine (events still flow); A's own op is still pending.
  gate.release();
}

test("UI-6 UI-4: a stale type change opens the Conflict panel; Accept theirs and Keep mine both converge", async ({
  users,
}, testInfo) => {
  const alice = newUser("Alice");
  const bob = newUser("Bob");
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");
  await signUp(b, bob);
  const canvasId = await ownerWithCanvas(a, alice, `Conflict ${alice.email.slice(6, 14)}`, {
    email: bob.email,
    role: "writer",
  });
  const gate = await SocketGate.install(a);
  await openEditor(a, canvasId);
  await openEditor(b, canvasId);
  await addBlock(a);
  await typeInto(a, 1, "Shared words");
  await expectAllSent(a);
  await expect.poll(async () => (await readBlocks(b))[0]?.text).toBe("Shared words");

  // 1. Accept theirs: B's Quote wins on both pages.
  await forceTypeConflict(a, b, gate, "Heading", "Quote");
  const panel = a.getByRole("dialog", { name: "Conflict" });
  await expect(panel).toBeVisible({ timeout: 15_000 });
  await expect(panel).toContainText(/base/i);
  await expect(panel).toContainText(/theirs/i);
  await expect(panel).toContainText(/mine/i);
  await expect(panel).toContainText(/quote/i);
  await expect(panel).toContainText(/heading/i);
  // MUT-10: it names the block it is about, as the page shows it now.
  await expect(panel).toContainText("About Quote block 1 “Shared words”");
  // MUT-10: the block type reads as the editor names it (Text → Quote), never as JSON ("quote").
  const typeField = panel.getByRole("region", { name: "Block type" });
  await expect(typeField).toContainText(/Text\s*→\s*(added:\s*)?Quote/);
  await expect(typeField).toContainText(/Text\s*→\s*(added:\s*)?Heading/);
  await expect(panel).not.toContainText('"');
  await screen(a, testInfo, "conflict-panel");
  await panel.getByRole("button", { name: "Accept theirs" }).click();
  await expect(panel).toBeHidden();
  await expect(blockItem(a, 1)).toHaveAttribute("data-block-type", "quote");
  await expect(blockItem(b, 1)).toHaveAttribute("data-block-type", "quote");
  await expectAllSent(a);
  expect((await expectConverged(a, b))[0]).toEqual({ type: "quote", text: "Shared words" });

  // 2. Keep mine: A's Heading is resubmitted against the current version and wins on both.
  await forceTypeConflict(a, b, gate, "Heading", "Todo");
  await expect(panel).toBeVisible({ timeout: 15_000 });
  await expect(panel).toContainText(/todo/i);
  await expect(panel).toContainText(/heading/i);
  await panel.getByRole("button", { name: "Keep mine" }).click();
  await expect(panel).toBeHidden();
  await expectAllSent(a);
  await expect(blockItem(a, 1)).toHaveAttribute("data-block-type", "heading");
  await expect(blockItem(b, 1)).toHaveAttribute("data-block-type", "heading", { timeout: 15_000 });
  expect((await expectConverged(a, b))[0]).toEqual({ type: "heading", text: "Shared words" });
});

test("MUT-10: both users ticking the same todo at once open no Conflict panel; both see it done", async ({
  users,
}) => {
  const alice = newUser("Alice");
  const bob = newUser("Bob");
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");
  await signUp(b, bob);
  const canvasId = await ownerWithCanvas(a, alice, `Same tick ${alice.email.slice(6, 14)}`, {
    email: bob.email,
    role: "writer",
  });
  const gate = await SocketGate.install(a);
  await openEditor(a, canvasId);
  await openEditor(b, canvasId);
  await addBlock(a);
  await typeInto(a, 1, "Water the plants");
  await setBlockType(a, 1, "Todo");
  await expectAllSent(a);
  await expect(blockItem(b, 1)).toHaveAttribute("data-block-type", "todo", { timeout: 15_000 });

  // A's tick is held on its socket while B ticks the same todo and commits: A's op reaches the
  // server after B's, against the version before it, setting the value B already set.
  gate.hold();
  await blockItem(a, 1).getByRole("checkbox", { name: "Done" }).check();
  await expect.poll(() => gate.heldCount, { message: "A's mutation is held" }).toBeGreaterThan(0);
  await blockItem(b, 1).getByRole("checkbox", { name: "Done" }).check();
  await expectAllSent(b);
  gate.release();
  await expectAllSent(a);

  await expect(a.getByRole("dialog", { name: "Conflict" })).toHaveCount(0);
  await expect(blockItem(a, 1).getByRole("checkbox", { name: "Done" })).toBeChecked();
  await expect(blockItem(b, 1).getByRole("checkbox", { name: "Done" })).toBeChecked();
  expect((await expectConverged(a, b))[0]).toEqual({ type: "todo", text: "Water the plants" });
});
