// The agent's day on the local desk, in a real browser: chat and email tickets from arrival
// to solved, a conflict that keeps the draft, roles, hostile mail, attachments.
import { readFileSync } from "node:fs";
import { type Page, expect, test } from "@playwright/test";
import {
  LI, SUE, type Ticket, api, callbacks, chatTicket, emailTicket, outbox, postChat, postEmail, shot, signIn, ticket, unique, watch,
} from "./desk";

async function setStatus(page: Page, status: string): Promise<void> {
  await page.getByLabel("Status", { exact: true }).selectOption(status);
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.locator(".ticket-head [data-status]")).toHaveAttribute("data-status", status);
}

/** Pending; the customer writes again and the open ticket screen shows it reopened; solved. */
async function pendingReopenSolved(page: Page, customerWrites: () => Promise<void>, text: string, screenshot: string) {
  await setStatus(page, "pending");
  await customerWrites();
  // Reopened on screen by the next poll, without a reload.
  await expect(page.locator(".ticket-head [data-status]")).toHaveAttribute("data-status", "open", { timeout: 5000 });
  await expect(page.locator(".msg.inbound").last()).toContainText(text);
  await shot(page, screenshot);
  await setStatus(page, "solved");
}

test("chat ticket: appears unassigned within 5 s, reply reaches the provider, pending, reopens, solved", async ({ page }) => {
  const { problems } = watch(page);
  await signIn(page, LI);
  await page.goto("/console/#/list/unassigned");
  await expect(page.getByRole("heading", { name: "Unassigned in my team" })).toBeVisible();
  const id = unique();
  const subject = `Where is my parcel ${id}?`;
  await postChat(`conv-${id}`, `visitor-${id}`, subject);
  // Within 5 s of the post, without a reload.
  const row = page.getByRole("row").filter({ hasText: subject });
  await expect(row).toBeVisible({ timeout: 5000 });
  const { number } = await chatTicket(`visitor-${id}`);
  await shot(page, "unassigned-view");

  await row.getByRole("link", { name: `#${number}` }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(subject);
  await page.getByLabel("Reply to the customer").fill(`It left our warehouse today (${id}).`);
  await page.getByRole("button", { name: "Send reply" }).click();
  await expect(page.locator("#status")).toHaveText("Sent.");
  await expect
    .poll(async () => (await callbacks()).some((c) => c.callback.kind === "agent_reply" && c.callback.text.includes(id) && c.callback.conversation_id === `conv-${id}`))
    .toBe(true);

  await pendingReopenSolved(page, () => postChat(`conv-${id}`, `visitor-${id}`, "It still has not arrived."), "It still has not arrived.", "ticket-chat");
  expect((await ticket(number)).status).toBe("solved");
  expect(problems).toEqual([]);
});

test("email ticket: the reply lands in the outbox in the thread; pending, reopens, solved", async ({ page }) => {
  const { problems } = watch(page);
  await signIn(page, LI);
  await page.goto("/console/#/list/unassigned");
  const id = unique();
  const subject = `My order is late ${id}`;
  await postEmail(`From: Ana Souza <ana.${id}@example.com>\r\nTo: support@desk.example\r\nSubject: ${subject}\r\nMessage-ID: <late-${id}@mail.example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOrder B2044 was due on Monday.\r\n`);
  const row = page.getByRole("row").filter({ hasText: subject });
  await expect(row).toBeVisible({ timeout: 5000 });
  await row.getByRole("link").first().click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(subject);
  await page.getByLabel("Reply to the customer").fill(`It ships tomorrow (${id}).`);
  await page.getByRole("button", { name: "Send reply" }).click();
  await expect(page.locator("#status")).toHaveText("Sent.");
  let reply: { text: string } | undefined;
  await expect
    .poll(() => (reply = outbox().find((m) => m.text.includes(`It ships tomorrow (${id}).`))) !== undefined)
    .toBe(true);
  // In the thread: it answers the customer's mail.
  expect(reply!.text).toMatch(new RegExp(`In-Reply-To: <late-${id}@mail.example.com>`));
  const replyId = /Message-ID: <([^>]+)>/i.exec(reply!.text)![1];

  await pendingReopenSolved(
    page,
    () => postEmail(`From: Ana Souza <ana.${id}@example.com>\r\nTo: support@desk.example\r\nSubject: Re: ${subject}\r\nMessage-ID: <late-2-${id}@mail.example.com>\r\nIn-Reply-To: <${replyId}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTomorrow is too late.\r\n`),
    "Tomorrow is too late.",
    "ticket-email",
  );
  expect(problems).toEqual([]);
});

test("a 409 from a concurrent edit shows the newer state and keeps the draft, also across a reload", async ({ page }) => {
  const { problems } = watch(page, [409]);
  const id = unique();
  await postChat(`conv-${id}`, `visitor-${id}`, `Conflict test ${id}`);
  const { number } = await chatTicket(`visitor-${id}`);
  await signIn(page, LI);
  await page.goto(`/console/#/ticket/${number}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`Conflict test ${id}`);
  // Hold the screen's polls (answered "not modified") so it keeps the version it read, as
  // when the edit lands between two polls; the reply lets them through again.
  let hold = true;
  await page.route(`**/v1/tickets/${number}`, (route) =>
    hold && route.request().method() === "GET" ? route.fulfill({ status: 304 }) : route.continue(),
  );
  await page.route(`**/v1/tickets/${number}/replies`, (route) => {
    hold = false;
    return route.continue();
  });
  const draft = `A long answer I must not lose ${id}`;
  await page.getByLabel("Reply to the customer").fill(draft);
  const current = await ticket(number);
  const edit = await api(SUE, "PATCH", `/v1/tickets/${number}`, { version: current.version, tags: ["checked-by-sue"] });
  expect(edit.status).toBe(200);
  await page.getByRole("button", { name: "Send reply" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Someone changed this ticket" })).toBeVisible();
  await expect(page.getByLabel("Tags (comma-separated)")).toHaveValue("checked-by-sue");
  await expect(page.getByLabel("Reply to the customer")).toHaveValue(draft);
  await shot(page, "conflict");
  await page.reload();
  await expect(page.getByLabel("Reply to the customer")).toHaveValue(draft);
  await page.getByRole("button", { name: "Send reply" }).click();
  await expect(page.locator("#status")).toHaveText("Sent.");
  await expect(page.getByLabel("Reply to the customer")).toHaveValue("");
  await expect(page.locator(".msg.outbound").filter({ hasText: draft })).toBeVisible();
  expect(problems).toEqual([]);
});

test("an agent sees no supervisor actions; a supervisor reassigns from the team view", async ({ page }) => {
  const { problems } = watch(page);
  const id = unique();
  await postChat(`conv-${id}`, `visitor-${id}`, `Role test ${id}`);
  const t0 = await chatTicket(`visitor-${id}`);
  expect((await api(SUE, "POST", `/v1/tickets/${t0.number}/assignment`, { agent: "li", version: t0.version })).status).toBe(200);

  await signIn(page, LI);
  await page.goto(`/console/#/ticket/${t0.number}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`Role test ${id}`);
  await expect(page.getByRole("button", { name: "Unassign" })).toBeVisible();
  await expect(page.locator(".supervisor-only")).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Team view" })).toHaveCount(0);
  await page.goto("/console/#/team");
  await expect(page.getByRole("heading", { name: "Team view" })).toHaveCount(0);
  // The API refuses regardless of what the page shows.
  expect((await api(LI, "POST", "/v1/customers/cus_x/merge", { into: "cus_y" })).status).toBe(403);
  await page.getByRole("button", { name: "Sign out" }).click();

  await signIn(page, SUE);
  await page.getByRole("link", { name: "Team view" }).click();
  await expect(page.getByRole("heading", { name: "Team view" })).toBeVisible();
  const section = page.locator("section.agent-tickets").filter({ has: page.getByRole("heading", { name: /^li:/ }) });
  const row = section.locator(`tr[data-ticket="${t0.number}"]`);
  await expect(row).toBeVisible();
  await shot(page, "team-view");
  await row.getByRole("combobox").selectOption("wang");
  await row.getByRole("button", { name: "Reassign" }).click();
  await expect.poll(async () => (await ticket(t0.number)).assignee).toBe("wang");
  await expect(page.locator("section.agent-tickets").filter({ has: page.getByRole("heading", { name: /^wang:/ }) }).locator(`tr[data-ticket="${t0.number}"]`)).toBeVisible();
  expect(problems).toEqual([]);
});

test("hostile HTML mail shows as plain text and runs no script", async ({ page }) => {
  const { problems } = watch(page);
  const id = unique();
  const boundary = `b-${id}`;
  await postEmail([
    `From: Mallory <mallory.${id}@example.com>`,
    "To: support@desk.example",
    `Subject: Invoice ${id}`,
    `Message-ID: <xss-${id}@mail.example.com>`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Pay here <img src=x onerror="alert('img')"> <script>alert('script')</script> javascript:alert('link') https://pay.example.com/${id}`,
    `--${boundary}`,
    "Content-Type: text/html; charset=utf-8",
    "",
    `<html><body onload="alert('body')"><p>Pay here</p><img src=x onerror="alert('img')"><script>alert('script')</script><a href="javascript:alert('link')">pay</a></body></html>`,
    `--${boundary}--`,
    "",
  ].join("\r\n"));
  await postEmail(`From: Mallory <mallory2.${id}@example.com>\r\nTo: support@desk.example\r\nSubject: Html only ${id}\r\nMessage-ID: <xss2-${id}@mail.example.com>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div onmouseover="alert('div')">Hello<script>alert('html-only')</script><iframe src="javascript:alert('frame')"></iframe></div>\r\n`);
  await signIn(page, LI);
  for (const [subject, from] of [[`Invoice ${id}`, `mallory.${id}@example.com`], [`Html only ${id}`, `mallory2.${id}@example.com`]]) {
    // "onerror" routes the mail to the technical team: opened by its number.
    const { number } = await emailTicket(from);
    await page.goto(`/console/#/ticket/${number}`);
    await expect(page.getByRole("heading", { level: 1 })).toContainText(subject);
    const body = page.locator(".msg .body").first();
    await expect(body).toBeVisible();
    // Nothing from the mail became an element but safe http(s) links.
    expect(await page.locator(".thread script, .thread img, .thread iframe, .thread [onerror], .thread [onload], .thread [onmouseover]").count()).toBe(0);
    for (const href of await page.locator(".thread a").evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))) {
      expect(href).toMatch(/^https?:/);
    }
    if (subject.startsWith("Invoice")) {
      await expect(body).toContainText(`<img src=x onerror="alert('img')">`);
      await expect(body).toContainText("<script>alert('script')</script>");
      await expect(page.locator(".thread a")).toHaveAttribute("rel", "noopener noreferrer nofollow");
      await shot(page, "hostile-mail");
    }
    await page.waitForTimeout(500);
  }
  expect(problems).toEqual([]);
});

test("a mail's attachment downloads from the thread", async ({ page }) => {
  const { problems } = watch(page);
  const id = unique();
  const boundary = `f-${id}`;
  await postEmail([
    `From: Bo <bo.${id}@example.com>`,
    "To: support@desk.example",
    `Subject: Receipt ${id}`,
    `Message-ID: <receipt-${id}@mail.example.com>`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    "My receipt is attached.",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    'Content-Disposition: attachment; filename="receipt.txt"',
    "",
    `Receipt ${id}: 42.00`,
    `--${boundary}--`,
    "",
  ].join("\r\n"));
  const { number } = await emailTicket(`bo.${id}@example.com`);
  await signIn(page, LI);
  await page.goto(`/console/#/ticket/${number}`);
  const button = page.getByRole("button", { name: /Download receipt\.txt/ });
  await expect(button).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
  expect(download.suggestedFilename()).toBe("receipt.txt");
  const file = await download.path();
  expect(readFileSync(file, "utf8")).toContain(`Receipt ${id}: 42.00`);
  expect(problems).toEqual([]);
});

test("presence, merging tickets and (supervisor) merging customers from the ticket screen", async ({ page }) => {
  const { problems } = watch(page);
  const id = unique();
  await postChat(`conv-a-${id}`, `visitor-${id}`, `First question ${id}`);
  const first = await chatTicket(`visitor-${id}`);
  await postChat(`conv-b-${id}`, `visitor-${id}`, `Second question ${id}`);
  let second: Ticket | undefined;
  await expect
    .poll(async () => {
      const customer = (await api<{ id: string }>(LI, "GET", `/v1/customers?chat_inbox=web&chat_visitor=visitor-${id}`)).json.id;
      const list = await api<{ tickets: Ticket[] }>(LI, "GET", `/v1/tickets?customer=${customer}`);
      second = list.json.tickets.find((t) => t.number !== first.number);
      return second?.number;
    })
    .toBeTruthy();

  await signIn(page, LI);
  // Presence from the header (back to offline at once: online takes waiting tickets).
  await page.getByLabel("Presence").selectOption("away");
  await expect.poll(async () => (await api<{ presence: string }>(LI, "GET", "/v1/agents/me")).json.presence).toBe("away");
  await page.getByLabel("Presence").selectOption("offline");
  await expect.poll(async () => (await api<{ presence: string }>(LI, "GET", "/v1/agents/me")).json.presence).toBe("offline");

  await page.goto(`/console/#/ticket/${first.number}`);
  await page.getByLabel("Merge into ticket #").fill(String(second!.number));
  await page.locator(".panel.merge").getByRole("button", { name: "Merge" }).click();
  await expect(page.locator(".ticket-head")).toContainText(`→ #${second!.number}`);
  expect((await api<{ ticket: { merged_into: number } }>(SUE, "GET", `/v1/tickets/${first.number}`)).json.ticket.merged_into).toBe(second!.number);
  await page.getByRole("button", { name: "Sign out" }).click();

  // Another visitor who is the same person: the supervisor merges the customers.
  await postChat(`conv-c-${id}`, `other-${id}`, `Third question ${id}`);
  const third = await chatTicket(`other-${id}`);
  const target = (await api<{ id: string }>(SUE, "GET", `/v1/customers?chat_inbox=web&chat_visitor=visitor-${id}`)).json.id;
  await signIn(page, SUE);
  await page.goto(`/console/#/ticket/${third.number}`);
  await page.getByLabel("Merge this customer into").fill(target);
  await page.locator(".panel.customer").getByRole("button", { name: "Merge" }).click();
  await expect(page.locator("#status")).toHaveText("Saved.");
  const merged = await api<{ customer: { merged_from: string[] } }>(SUE, "GET", `/v1/customers/${target}`);
  expect(merged.json.customer.merged_from).toContain(third.requester);
  expect(problems).toEqual([]);
});

test("keyboard only: open a ticket from the list, reply with r and Ctrl+Enter", async ({ page }) => {
  const { problems } = watch(page);
  const id = unique();
  await postChat(`conv-${id}`, `visitor-${id}`, `Keyboard test ${id}`);
  const { number } = await chatTicket(`visitor-${id}`);
  await signIn(page, LI);
  await page.goto("/console/#/list/unassigned");
  await expect(page.getByRole("row").filter({ hasText: `Keyboard test ${id}` })).toBeVisible();
  // Tab through the page (skip link, header, views, filters) to the ticket's link.
  let focused = "";
  for (let i = 0; i < 80 && focused !== `#${number}`; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
  }
  expect(focused).toBe(`#${number}`);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`Keyboard test ${id}`);
  await page.keyboard.press("r");
  await expect(page.getByLabel("Reply to the customer")).toBeFocused();
  await page.keyboard.type(`Typed without a mouse ${id}`);
  await page.keyboard.press("Control+Enter");
  await expect(page.locator("#status")).toHaveText("Sent.");
  await expect(page.locator(".msg.outbound").filter({ hasText: `Typed without a mouse ${id}` })).toBeVisible();
  expect(problems).toEqual([]);
});
