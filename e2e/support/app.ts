import { randomBytes } from "node:crypto";
import { expect, type Locator, type Page } from "@playwright/test";

/**
 * Steps through the web app by the accessible names of docs/UI.md (the contract the app is
 * built to), so a renamed control fails here first.
 */

export interface User {
  name: string;
  email: string;
  password: string;
}

/** A fresh user per call: tests never share accounts. */
export function newUser(first: string): User {
  const id = randomBytes(4).toString("hex");
  return {
    name: `${first} ${id}`,
    email: `${first.toLowerCase()}-${id}@e2e.potentia.test`,
    password: `correct horse ${id} battery`,
  };
}

export async function signUp(page: Page, user: User): Promise<void> {
  await page.goto("/signup");
  await page.getByRole("textbox", { name: "Name" }).fill(user.name);
  await page.getByRole("textbox", { name: "Email" }).fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Your canvases" })).toBeVisible({ timeout: 20_000 });
}

export async function signIn(page: Page, user: Pick<User, "email" | "password">): Promise<void> {
  await page.goto("/signin");
  await page.getByRole("textbox", { name: "Email" }).fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/, { timeout: 15_000 });
}

export function canvasList(page: Page): Locator {
  return page.getByRole("list", { name: "Canvases" });
}

export function canvasItem(page: Page, title: string): Locator {
  return canvasList(page)
    .getByRole("listitem")
    .filter({ has: page.getByRole("link", { name: title, exact: true }) });
}

/** Creates a canvas from the list screen (the app then opens it); returns its id. */
export async function createCanvas(page: Page, title: string): Promise<string> {
  await page.getByRole("textbox", { name: "New canvas title" }).fill(title);
  const created = Date.now();
  await page.getByRole("button", { name: "Create canvas" }).click();
  await expect(page).toHaveURL(/\/canvas\/[^/?#]+/, { timeout: 15_000 });
  const id = new URL(page.url()).pathname.match(/\/canvas\/([^/?#]+)/)?.[1];
  expect(id, `canvas URL ${page.url()}`).toBeTruthy();
  // Like a person, look at the new canvas before going anywhere: the list (canvas.list, A4) may
  // be loaded twice a second per user, and the list page shows a 429 as an error without
  // retrying it (reported), so a robot that goes straight back would trip it.
  await expect(page.getByRole("list", { name: "Blocks" })).toBeAttached({ timeout: 20_000 });
  await expect(connection(page)).toContainText(/Live|Polling/, { timeout: 20_000 });
  const waited = Date.now() - created;
  if (waited < 1_100) await page.waitForTimeout(1_100 - waited);
  return decodeURIComponent(id as string);
}

/** The list screen, with `title` listed. */
export async function gotoList(page: Page, title?: string): Promise<void> {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Your canvases" })).toBeVisible({ timeout: 20_000 });
  if (title) await expect(canvasItem(page, title)).toBeVisible({ timeout: 15_000 });
}

export async function openShareDialog(page: Page, title: string): Promise<Locator> {
  await canvasItem(page, title)
    .getByRole("button", { name: `Share ${title}` })
    .click();
  const dialog = page.getByRole("dialog", { name: `Share ${title}` });
  await expect(dialog).toBeVisible();
  return dialog;
}

export async function addMember(dialog: Locator, email: string, role: "writer" | "reader"): Promise<void> {
  await dialog.getByRole("textbox", { name: "Member email" }).fill(email);
  await dialog.getByRole("combobox", { name: "Role", exact: true }).selectOption(role);
  await dialog.getByRole("button", { name: "Add member" }).click();
  const members = dialog.getByRole("list", { name: "Members" });
  await expect(members.getByRole("combobox", { name: `Role for ${email}` })).toHaveValue(role);
}

/** Signs `owner` up, creates a canvas and (optionally) shares it; leaves `page` on the list. */
export async function ownerWithCanvas(
  page: Page,
  owner: User,
  title: string,
  share?: { email: string; role: "writer" | "reader" },
): Promise<string> {
  await signUp(page, owner);
  const id = await createCanvas(page, title);
  await gotoList(page, title);
  if (share) {
    const dialog = await openShareDialog(page, title);
    await addMember(dialog, share.email, share.role);
    await dialog.getByRole("button", { name: "Close" }).click();
    await expect(dialog).toBeHidden();
  }
  return id;
}

// ---------------------------------------------------------------- editor

export function connection(page: Page): Locator {
  return page.getByRole("status", { name: "Connection" });
}

export function blockList(page: Page): Locator {
  return page.getByRole("list", { name: "Blocks" });
}

/** The n-th block (1-based, document order) as its list item. */
export function blockItem(page: Page, n: number): Locator {
  return blockList(page)
    .locator("[data-block-id]")
    .nth(n - 1);
}

/** The n-th block's text box, whatever its type ("Text block 1", "Heading block 1", …). */
export function blockText(page: Page, n: number): Locator {
  return blockList(page).getByRole("textbox", { name: new RegExp(`^\\w+ block ${n}$`) });
}

/** Opens the editor and waits for the socket (or polling) to be up. */
export async function openEditor(page: Page, canvasId: string, expect_: RegExp = /Live/): Promise<void> {
  await page.goto(`/canvas/${canvasId}`);
  await expect(blockList(page)).toBeAttached({ timeout: 20_000 });
  await expect(connection(page)).toContainText(expect_, { timeout: 20_000 });
}

/** Appends a text block and waits until it exists; returns its 1-based position. */
export async function addBlock(page: Page): Promise<number> {
  const before = await blockList(page).locator("[data-block-id]").count();
  await page.getByRole("button", { name: "Add block" }).click();
  await expect(blockList(page).locator("[data-block-id]")).toHaveCount(before + 1);
  return before + 1;
}

/** Types at the end of block n like a person (one key at a time). */
export async function typeInto(page: Page, n: number, text: string, delay = 40): Promise<void> {
  const box = blockText(page, n);
  await box.click();
  await page.keyboard.press("End");
  await box.pressSequentially(text, { delay });
}

export async function setBlockType(
  page: Page,
  n: number,
  type: "Text" | "Heading" | "Todo" | "Code" | "Quote" | "Divider",
): Promise<void> {
  await page.getByRole("button", { name: `Block options ${n}` }).click();
  await page.getByRole("menu").getByRole("menuitem", { name: type, exact: true }).click();
}

/** Nothing of ours is waiting for the server ("N unsent" gone). */
export async function expectAllSent(page: Page, timeout = 20_000): Promise<void> {
  await expect(connection(page)).not.toContainText(/unsent/, { timeout });
}

export interface BlockView {
  type: string;
  text: string;
}

/** The blocks as shown: ordered {type, text} read from the DOM. */
export async function readBlocks(page: Page): Promise<BlockView[]> {
  return blockList(page).evaluate((list) =>
    Array.from(list.querySelectorAll<HTMLElement>("[data-block-id]")).map((item) => {
      const box = item.querySelector<HTMLElement>("textarea, input:not([type=checkbox]), [role=textbox]");
      const text =
        box instanceof HTMLTextAreaElement || box instanceof HTMLInputElement
          ? box.value
          : // innerText, not textContent: a contenteditable's line breaks are layout (<br>, <div>).
            // biome-ignore lint/performance/useDomNodeTextContent: see above
            (box?.innerText ?? "");
      // Normalise the trailing newline some contenteditable blocks render.
      return { type: item.dataset.blockType ?? "", text: text.replace(/\n$/, "") };
    }),
  );
}

/** Polls until both pages show the same ordered blocks; returns them. */
export async function expectConverged(a: Page, b: Page, timeout = 30_000): Promise<BlockView[]> {
  let last: [BlockView[], BlockView[]] = [[], []];
  await expect
    .poll(
      async () => {
        last = [await readBlocks(a), await readBlocks(b)];
        return JSON.stringify(last[0]) === JSON.stringify(last[1]);
      },
      { timeout, message: "both pages show the same blocks" },
    )
    .toBe(true)
    .catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\nA: ${JSON.stringify(last[0])}\nB: ${JSON.stringify(last[1])}`,
      );
    });
  return last[0];
}

/** `sub`'s characters appear in `text` in order (other users' characters may sit between). */
export function isSubsequence(sub: string, text: string): boolean {
  let i = 0;
  for (const ch of text) if (ch === sub[i]) i++;
  return i === sub.length;
}
