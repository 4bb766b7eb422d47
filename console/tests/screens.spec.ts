// Every main screen: axe-core finds no serious or critical violation, a screenshot is kept,
// and the console's size and time to interactive on the local desk are printed.
import AxeBuilder from "@axe-core/playwright";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type Page, expect, test } from "@playwright/test";
import { ARTIFACTS, LI, SUE, api, chatTicket, postChat, shot, signIn, unique, watch } from "./desk";

async function accessible(page: Page, name: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`);
  expect(serious, `axe on ${name}`).toEqual([]);
  await shot(page, name);
}

test("every main screen passes axe with no serious violation, in English and Chinese", async ({ page }) => {
  const { problems } = watch(page);
  const id = unique();
  await postChat(`conv-${id}`, `visitor-${id}`, `Accessibility check ${id} https://shop.example.com/orders/1`);
  const { number } = await chatTicket(`visitor-${id}`);
  await api(SUE, "POST", `/v1/tickets/${number}/notes`, { text: "Internal: customer called twice." });
  await api(SUE, "POST", "/v1/canned-responses", { title: `Parcel on its way ${id}`, text: "Hello {customer_name}, your ticket {ticket} is on its way. — {agent}" });

  await page.goto("/console/");
  await expect(page.getByLabel("Access token")).toBeVisible();
  await accessible(page, "sign-in");
  await signIn(page, LI);
  await page.goto("/console/#/list/unassigned");
  await expect(page.getByRole("row").filter({ hasText: `Accessibility check ${id}` })).toBeVisible();
  await accessible(page, "list");
  await page.goto(`/console/#/ticket/${number}`);
  await expect(page.locator(".msg.internal")).toBeVisible();
  await expect(page.locator(".panel.customer .customer-tickets")).toBeVisible();
  await accessible(page, "ticket");
  // A canned response, its placeholders filled.
  await page.getByLabel("Insert canned response").selectOption({ label: `Parcel on its way ${id}` });
  await expect(page.getByLabel("Reply to the customer")).toHaveValue(`Hello Li Wei, your ticket #${number} is on its way. — li`);
  await page.getByLabel("Reply to the customer").fill("");
  await page.getByLabel("Language").selectOption("zh-CN");
  await expect(page.getByRole("button", { name: "退出" })).toBeVisible();
  await accessible(page, "ticket-zh");
  await page.goto("/console/#/list/mine");
  await accessible(page, "list-zh");
  await page.getByLabel("语言").selectOption("en");
  await page.getByRole("button", { name: "Sign out" }).click();

  await signIn(page, SUE);
  await page.goto("/console/#/team");
  await expect(page.getByRole("heading", { name: "Team view" })).toBeVisible();
  await expect(page.locator("table.agents")).toBeVisible();
  await accessible(page, "team");
  await page.goto("/console/#/canned");
  await expect(page.getByRole("heading", { name: `Parcel on its way ${id}` })).toBeVisible();
  await accessible(page, "canned");
  // A supervisor changes it (from the version read).
  await page.getByRole("button", { name: `Edit Parcel on its way ${id}` }).click();
  await page.getByLabel("Title").fill(`Parcel shipped ${id}`);
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("heading", { name: `Parcel shipped ${id}` })).toBeVisible();
  expect(problems).toEqual([]);
});

test("benchmark: first screen size (gzip), time to interactive, polling requests per hour", async ({ browser }) => {
  // What a fresh browser downloads for the signed-in list screen (the session resumed),
  // gzip-compressed as a CDN would send it.
  const context = await browser.newContext();
  await context.addInitScript((token) => sessionStorage.setItem("omnidesk.token", token), LI);
  const page = await context.newPage();
  const bodies = new Map<string, number>();
  page.on("response", async (response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith("/console/") || response.status() !== 200) return;
    try {
      bodies.set(url.pathname, gzipSync(await response.body()).length);
    } catch {
      /* a redirect has no body */
    }
  });
  await page.goto("/console/#/list/unassigned", { waitUntil: "load" });
  await expect(page.locator(".list table, .list p").first()).toBeVisible();
  const tti = await page.evaluate(() => {
    const ready = (window as unknown as { consoleReady?: number }).consoleReady ?? NaN;
    return Math.round(ready);
  });
  const firstScreen = [...bodies.values()].reduce((a, b) => a + b, 0);
  // Polling: requests the list screen sends in 30 s with nothing changing, per hour.
  const before = await page.evaluate(() => (window as unknown as { omnidesk: { api: { counts: { requests: number; notModified: number } } } }).omnidesk.api.counts);
  await page.waitForTimeout(30_000);
  const after = await page.evaluate(() => (window as unknown as { omnidesk: { api: { counts: { requests: number; notModified: number } } } }).omnidesk.api.counts);
  const perHour = Math.round(((after.requests - before.requests) * 3600) / 30);
  const notModified = after.requests === before.requests ? 0 : Math.round((100 * (after.notModified - before.notModified)) / (after.requests - before.requests));
  const report = [
    `console first screen: ${(firstScreen / 1024).toFixed(1)} kB gzip over ${bodies.size} files (${[...bodies.keys()].join(", ")})`,
    `console time to interactive (navigation start to the list screen rendered): ${tti} ms`,
    `console polling, list screen idle: ${perHour} requests per agent-hour, ${notModified}% answered 304`,
  ].join("\n");
  console.log(report);
  writeFileSync(join(ARTIFACTS, "bench.txt"), `${report}\n`);
  await context.close();
  expect(firstScreen).toBeLessThan(150 * 1024);
});

/** The console's CSP on AWS: ConsoleSecurityHeaders in template.yaml, for us-east-1. */
const AWS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self' https://*.execute-api.us-east-1.amazonaws.com https://cognito-idp.us-east-1.amazonaws.com; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

test("on AWS the sign-in runs SRP against the user pool and shows its refusal", async ({ page }) => {
  const { problems } = watch(page, [400]);
  // The console as CloudFront serves it: config.json names a user pool; Cognito's endpoint
  // is played by the test (no network), answering the SRP start as it does a wrong password.
  await page.route("**/console/config.json", (route) =>
    route.fulfill({ json: { auth: "cognito", api: "", user_pool_id: "us-east-1_TestPool1", client_id: "testclient123" } }),
  );
  // The page under CloudFront's content security policy (template.yaml), as on AWS.
  await page.route(/\/console\/(#.*)?$/, async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers(), "content-security-policy": AWS_CSP };
    return route.fulfill({ response, headers });
  });
  const calls: string[] = [];
  await page.route("https://cognito-idp.us-east-1.amazonaws.com/**", (route) => {
    calls.push(`${route.request().headers()["x-amz-target"]} ${route.request().postData() ?? ""}`);
    return route.fulfill({
      status: 400,
      contentType: "application/x-amz-json-1.1",
      body: JSON.stringify({ __type: "NotAuthorizedException", message: "Incorrect username or password." }),
    });
  });
  await page.goto("/console/");
  await page.getByLabel("User name").fill("li");
  await page.getByLabel("Password").fill("not-the-password");
  await accessible(page, "sign-in-cognito");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Sign-in failed: Incorrect username or password.");
  // SRP: the password itself never left the page, only the SRP_A of the exchange.
  expect(calls).toHaveLength(1);
  expect(calls[0]).toContain("AWSCognitoIdentityProviderService.InitiateAuth");
  expect(calls[0]).toContain('"AuthFlow":"USER_SRP_AUTH"');
  expect(calls[0]).toContain("SRP_A");
  expect(calls[0]).not.toContain("not-the-password");
  expect(problems).toEqual([]);
});
