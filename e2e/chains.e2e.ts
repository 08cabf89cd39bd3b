import {
  addBlock,
  blockItem,
  connection,
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
import { expect, test } from "./support/fixtures";

/**
 * MUT-9 in the browser, as the issue reported it: Bob's offline chain [type "!", make it a
 * heading] must not silently overwrite Alice's concurrent change to a quote.
 */
test("MUT-9 UI-6: Bob's offline edits do not overwrite Alice's concurrent type change: the type conflicts, the text merges", async ({
  users,
  consoleGuard,
}) => {
  // Going offline makes Chromium log the failed requests and socket itself.
  consoleGuard.allowConsole(/Failed to load resource|net::ERR_INTERNET_DISCONNECTED|WebSocket/);
  const alice = newUser("Alice");
  const bob = newUser("Bob");
  const { page: a } = await users.open("Alice");
  const { page: b, context: bobContext } = await users.open("Bob");
  await signUp(b, bob);
  const canvasId = await ownerWithCanvas(a, alice, `Chains ${alice.email.slice(6, 14)}`, {
    email: bob.email,
    role: "writer",
  });
  await openEditor(a, canvasId);
  await openEditor(b, canvasId);
  await addBlock(a);
  await typeInto(a, 1, "Hello");
  await expectAllSent(a);
  await expect.poll(async () => (await readBlocks(b))[0]?.text).toBe("Hello");

  // Bob goes offline; Alice makes the block a quote (version 2).
  await bobContext.setOffline(true);
  await setBlockType(a, 1, "Quote");
  await expectAllSent(a);

  // Bob, offline, types "!" and makes the block a heading.
  await typeInto(b, 1, "!");
  await setBlockType(b, 1, "Heading");
  await expect(blockItem(b, 1)).toHaveAttribute("data-block-type", "heading");
  await expect(connection(b)).toContainText(/unsent/);

  // Bob comes back: his text merges, his type change conflicts with Alice's instead of winning.
  await bobContext.setOffline(false);
  const panel = b.getByRole("dialog", { name: "Conflict" });
  await expect(panel).toBeVisible({ timeout: 30_000 });
  await expect(panel).toContainText(/quote/i);
  await expect(panel).toContainText(/heading/i);
  await expectAllSent(b, 30_000);
  await expect(blockItem(a, 1)).toHaveAttribute("data-block-type", "quote");
  expect((await expectConverged(a, b))[0]).toEqual({ type: "quote", text: "Hello!" });
  // Alice saw no conflict: nothing of hers was refused.
  await expect(a.getByRole("dialog", { name: "Conflict" })).toBeHidden();

  // Bob decides: keeping his heading now overwrites the quote knowingly, on both screens.
  await panel.getByRole("button", { name: "Keep mine" }).click();
  await expect(panel).toBeHidden();
  await expectAllSent(b);
  await expect(blockItem(a, 1)).toHaveAttribute("data-block-type", "heading", { timeout: 15_000 });
  expect((await expectConverged(a, b))[0]).toEqual({ type: "heading", text: "Hello!" });
});
