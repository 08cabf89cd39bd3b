import { newUser, signIn, signOut, signUp } from "./support/app";
import { expect, screen, test } from "./support/fixtures";

test("UI-6 AUTH-4: sign up, sign out, sign in; the header shows who is signed in", async ({
  page,
}, testInfo) => {
  const user = newUser("Ada");
  await signUp(page, user);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText(user.name).first()).toBeVisible();

  await signOut(page);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  // Signed out means the list is not reachable any more.
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin/);
  await screen(page, testInfo, "sign-in");

  await signIn(page, user);
  await expect(page.getByRole("heading", { name: "Your canvases" })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText(user.name).first()).toBeVisible();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
});

test("UI-6 AUTH-4: a wrong password shows an alert and stays on the sign-in page", async ({
  page,
  consoleGuard,
}) => {
  // next-auth answers the failed credentials callback with 401, which Chromium logs itself.
  consoleGuard.allowConsole(/status of 401 .*\/api\/auth\/callback\/credentials/);
  const user = newUser("Bob");
  await signUp(page, user);
  await signOut(page);

  await signIn(page, { email: user.email, password: "not the password at all" });
  // Next's own route announcer is an (empty) alert too: take the one that says something.
  const alert = page.getByRole("alert").filter({ hasText: /\w+\s+\w+/ });
  await expect(alert).toHaveCount(1);
  await expect(alert).toBeVisible();
  await expect(page).toHaveURL(/\/signin/);
  await expect(page.getByRole("heading", { name: "Your canvases" })).toHaveCount(0);
});

test("UI-6 AUTH-4: the sign-in page links to sign-up", async ({ page }) => {
  await page.goto("/signin");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/signup/);
  await expect(page.getByRole("button", { name: "Create account" })).toBeVisible();
});
