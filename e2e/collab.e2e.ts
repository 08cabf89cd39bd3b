import {
  addBlock,
  blockItem,
  blockList,
  canvasItem,
  expectAllSent,
  expectConverged,
  isSubsequence,
  newUser,
  openEditor,
  openShareDialog,
  ownerWithCanvas,
  signUp,
  typeInto,
} from "./support/app";
import { expect, screen, test } from "./support/fixtures";

test("UI-6: two users share a canvas, type at once into the same and different blocks, and converge", async ({
  users,
}, testInfo) => {
  const alice = newUser("Alice");
  const bob = newUser("Bob");
  const title = `Collab ${alice.email.slice(6, 14)}`;
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");

  await signUp(b, bob);
  const canvasId = await ownerWithCanvas(a, alice, title);
  await screen(a, testInfo, "canvas-list");
  const dialog = await openShareDialog(a, title);
  await dialog.getByRole("textbox", { name: "Member email" }).fill(bob.email);
  await dialog.getByRole("combobox", { name: "Role", exact: true }).selectOption("writer");
  await dialog.getByRole("button", { name: "Add member" }).click();
  await expect(dialog.getByRole("combobox", { name: `Role for ${bob.email}` })).toHaveValue("writer");
  await screen(a, testInfo, "share-dialog");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toBeHidden();

  // B finds the shared canvas in its own list, as a writer, and opens it from there.
  await b.reload();
  const item = canvasItem(b, title);
  await expect(item).toContainText("writer");
  await item.getByRole("link", { name: title, exact: true }).click();
  await expect(b).toHaveURL(new RegExp(`/canvas/${canvasId}`));
  await expect(b.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(b.getByRole("status", { name: "Connection" })).toContainText("Live", { timeout: 20_000 });
  await openEditor(a, canvasId);

  // Three blocks from A; B sees them arrive.
  await addBlock(a);
  await addBlock(a);
  await addBlock(a);
  await expect(blockList(b).locator("[data-block-id]")).toHaveCount(3, { timeout: 15_000 });

  // Same block at the same time, then different blocks at the same time. Disjoint alphabets so
  // every character can be traced back to its typist.
  const typedA = { shared: "abcdefghij", own: "klmnopq" };
  const typedB = { shared: "0123456789", own: "QRSTUVW" };
  await Promise.all([
    (async () => {
      await typeInto(a, 1, typedA.shared, 35);
      await typeInto(a, 2, typedA.own, 35);
    })(),
    (async () => {
      await typeInto(b, 1, typedB.shared, 45);
      await typeInto(b, 3, typedB.own, 45);
    })(),
  ]);
  await expectAllSent(a);
  await expectAllSent(b);

  const blocks = await expectConverged(a, b);
  expect(blocks.map((x) => x.type)).toEqual(["text", "text", "text"]);
  const [shared, ownA, ownB] = blocks.map((x) => x.text);
  // Nothing lost, nothing doubled, each typist's keystrokes in the order they were typed.
  expect([...(shared ?? "")].sort().join("")).toBe([...(typedA.shared + typedB.shared)].sort().join(""));
  expect(isSubsequence(typedA.shared, shared ?? ""), `A's keystrokes in order in ${shared}`).toBe(true);
  expect(isSubsequence(typedB.shared, shared ?? ""), `B's keystrokes in order in ${shared}`).toBe(true);
  expect(ownA).toBe(typedA.own);
  expect(ownB).toBe(typedB.own);

  // Presence: B moves the mouse over block 1, A sees B's cursor; both are online.
  const box = await blockItem(b, 1).boundingBox();
  expect(box).not.toBeNull();
  if (box) {
    await b.mouse.move(box.x + 20, box.y + box.height / 2, { steps: 5 });
    await b.mouse.move(box.x + 60, box.y + box.height / 2, { steps: 5 });
  }
  const cursor = a.locator(`[data-testid="remote-cursor"][aria-label="${bob.name}'s cursor"]`);
  await expect(cursor).toBeVisible({ timeout: 15_000 });
  // And the other way round, over another block.
  const boxA = await blockItem(a, 2).boundingBox();
  expect(boxA).not.toBeNull();
  if (boxA) await a.mouse.move(boxA.x + 80, boxA.y + boxA.height / 2, { steps: 5 });
  await expect(b.locator(`[data-testid="remote-cursor"][aria-label="${alice.name}'s cursor"]`)).toBeVisible({
    timeout: 15_000,
  });
  for (const page of [a, b]) {
    const online = page.getByRole("list", { name: "Online now" });
    await expect(online.getByRole("listitem", { name: alice.name })).toBeVisible({ timeout: 15_000 });
    await expect(online.getByRole("listitem", { name: bob.name })).toBeVisible({ timeout: 15_000 });
  }
  await screen(a, testInfo, "editor-two-users");
});
