import type { Page } from "@playwright/test";
import { addBlock, blockText, gotoList, newUser, openEditor, openShareDialog, signUp } from "./support/app";
import { expect, test } from "./support/fixtures";

/**
 * Controls without an accessible name, from Chromium's accessibility tree as Playwright's
 * ariaSnapshot renders it: a named control is `- button "Create canvas"`, an unnamed one is
 * `- button` (possibly followed by `[attributes]` or `:`).
 */
async function unnamedControls(page: Page): Promise<string[]> {
  const snapshot = await page.locator("body").ariaSnapshot();
  const roles = "button|textbox|combobox|checkbox|link|menuitem|searchbox|switch|radio|slider|spinbutton|tab";
  const unnamed = new RegExp(`^\\s*- (${roles})(\\s*\\[[^\\]]*\\])*\\s*:?\\s*$`);
  return snapshot.split("\n").filter((line) => unnamed.test(line));
}

/** Presses Tab until `target` has focus (at most `max` times). */
async function tabTo(page: Page, target: ReturnType<Page["getByRole"]>, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await target.evaluate((el) => el === document.activeElement || el.contains(document.activeElement)))
      return;
  }
  throw new Error(`Tab never reached ${target}`);
}

test("UI-6: every control on the list and editor screens has an accessible name; Tab reaches them", async ({
  page,
}) => {
  const user = newUser("Ally");
  await signUp(page, user);
  expect(await unnamedControls(page), "unnamed controls on the canvas list").toEqual([]);

  // Keyboard only: Tab to the title, type it, Tab to Create canvas, Enter.
  const title = `Keys ${user.email.slice(5, 13)}`;
  await page.goto("/");
  await tabTo(page, page.getByRole("textbox", { name: "New canvas title" }));
  await page.keyboard.type(title);
  const create = page.getByRole("button", { name: "Create canvas" });
  await tabTo(page, create, 5);
  await expect(create).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/canvas\/[^/?#]+/, { timeout: 15_000 });
  const canvasId = new URL(page.url()).pathname.split("/").pop();
  expect(canvasId).toBeTruthy();
  await gotoList(page, title);
  expect(await unnamedControls(page), "unnamed controls on the canvas list with a canvas").toEqual([]);

  // The share dialog: named controls, Escape closes it and gives focus back to the page.
  const share = await openShareDialog(page, title);
  expect(await unnamedControls(page), "unnamed controls in the share dialog").toEqual([]);
  await page.keyboard.press("Escape");
  await expect(share).toBeHidden();

  await openEditor(page, canvasId as string);
  await addBlock(page);
  await expect(blockText(page, 1)).toBeFocused(); // Add block focuses the new block (UI.md)
  await page.keyboard.type("first");
  await expect(page.getByRole("status", { name: "Connection" })).not.toContainText("unsent", {
    timeout: 15_000,
  });
  expect(await unnamedControls(page), "unnamed controls in the editor").toEqual([]);

  // The block menu: every item named as in docs/UI.md.
  await page.getByRole("button", { name: "Block options 1" }).click();
  const menu = page.getByRole("menu");
  await expect(menu).toBeVisible();
  const items = ["Text", "Heading", "Todo", "Code", "Quote", "Divider", "Move up", "Move down", "Indent"];
  for (const item of [...items, "Outdent", "Delete"]) {
    await expect(menu.getByRole("menuitem", { name: item, exact: true })).toBeAttached();
  }
  expect(await unnamedControls(page), "unnamed controls with the block menu open").toEqual([]);
  await page.keyboard.press("Escape");
  await expect(menu).toBeHidden();

  // From the top of the page, Tab reaches the first block.
  await page.reload();
  await expect(blockText(page, 1)).toBeVisible({ timeout: 20_000 });
  await tabTo(page, blockText(page, 1));
  await expect(blockText(page, 1)).toBeFocused();
});
