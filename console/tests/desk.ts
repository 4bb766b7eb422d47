// Helpers that play the customer and the chat provider against the local desk, and sign
// people in to the console.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Page, expect } from "@playwright/test";

export const BASE = process.env.OMNIDESK_BASE ?? "http://127.0.0.1:3000";
export const OUTBOX = process.env.OMNIDESK_OUTBOX ?? "local-mail/outbox";
export const ARTIFACTS = process.env.CONSOLE_ARTIFACTS ?? "test-results";
const DESK_BIN = process.env.OMNIDESK_DESK_BIN ?? "omnidesk-local";
const DESK_CONFIG = process.env.OMNIDESK_CONFIG ?? "infra/local/omnidesk.example.toml";

export const LI = "local-agent-li-token";
export const SUE = "local-supervisor-token";

export const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** A chat message as the provider posts it, signed by the desk's own `sign` command. `email`
 *  and `inbox` play the shop's signed-in account chat, which vouches for the address. */
export async function postChat(
  conversation: string, visitor: string, text: string, name = "Li Wei", email?: string, inbox = "web",
): Promise<void> {
  const body = JSON.stringify({ message_id: `m-${unique()}`, conversation_id: conversation, visitor: { id: visitor, name, email }, text });
  const file = join(mkdtempSync(join(tmpdir(), "console-chat-")), "body.json");
  writeFileSync(file, body);
  const header = execFileSync(DESK_BIN, ["--config", DESK_CONFIG, "sign", "--inbox", inbox, "--body", file]).toString().trim();
  const [, value] = header.split(": ");
  const response = await fetch(`${BASE}/v1/chat/${inbox}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-omnidesk-signature": value },
    body,
  });
  expect(response.status).toBe(202);
}

/** A mail as SES would hand it over. */
export async function postEmail(raw: string): Promise<void> {
  const response = await fetch(`${BASE}/local/email`, { method: "POST", body: raw });
  expect(response.status).toBe(202);
}

export async function api<T = unknown>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const response = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
}

export interface Ticket { number: number; version: number; status: string; assignee: string | null; subject: string; tags: string[]; requester: string }

/** The ticket a chat visitor's message opened (the router works behind a queue). */
export async function chatTicket(visitor: string): Promise<Ticket> {
  let found: Ticket | undefined;
  await expect
    .poll(async () => {
      const customer = await api<{ id: string }>(LI, "GET", `/v1/customers?chat_inbox=web&chat_visitor=${visitor}`);
      if (customer.status !== 200) return undefined;
      const list = await api<{ tickets: Ticket[] }>(LI, "GET", `/v1/tickets?customer=${customer.json.id}`);
      found = list.json.tickets[0];
      return found?.number;
    }, { timeout: 10_000 })
    .toBeTruthy();
  return found!;
}

/** The ticket a mail from `address` opened. */
export async function emailTicket(address: string): Promise<Ticket> {
  let found: Ticket | undefined;
  await expect
    .poll(async () => {
      const customer = await api<{ id: string }>(LI, "GET", `/v1/customers?email=${encodeURIComponent(address)}`);
      if (customer.status !== 200) return undefined;
      found = (await api<{ tickets: Ticket[] }>(LI, "GET", `/v1/tickets?customer=${customer.json.id}`)).json.tickets[0];
      return found?.number;
    }, { timeout: 10_000 })
    .toBeTruthy();
  return found!;
}

export async function ticket(number: number): Promise<Ticket> {
  return (await api<{ ticket: Ticket }>(SUE, "GET", `/v1/tickets/${number}`)).json.ticket;
}

export async function callbacks(): Promise<{ callback: { kind: string; text: string; conversation_id: string } }[]> {
  return (await fetch(`${BASE}/local/callbacks`)).json();
}

export function outbox(): { name: string; text: string }[] {
  return readdirSync(OUTBOX)
    .filter((n) => n.endsWith(".eml"))
    .map((name) => ({ name, text: readFileSync(join(OUTBOX, name), "utf8") }));
}

/** Fails the test on any dialog (alert, confirm …), uncaught error or console error (but
 *  Chromium's note of a 409 the test provoked on purpose). */
export function watch(page: Page, expected: number[] = []): { problems: string[] } {
  const problems: string[] = [];
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (msg) => {
    const provoked = expected.some((s) => msg.text().includes(`status of ${s} `));
    if (msg.type() === "error" && !provoked) problems.push(`console error: ${msg.text()}`);
  });
  return { problems };
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.goto("/console/");
  await page.getByLabel(/Access token|访问令牌/).fill(token);
  await page.getByRole("button", { name: /Sign in|登录/ }).click();
  await expect(page.getByRole("button", { name: /Sign out|退出/ })).toBeVisible();
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}
