// The requester's recent orders beside the ticket, from the local desk's fake shop.
import { expect, test } from "@playwright/test";
import { LI, emailTicket, postChat, shot, signIn, unique, watch } from "./desk";

test("agent opens a customer's chat and sees her recent orders with items and tracking", async ({ page }) => {
  const { problems } = watch(page);
  const id = unique();
  // Ada, signed in on the shop's account page: the inbox vouches for her address.
  await postChat(`conv-${id}`, `visitor-${id}`, `Please call me back ${id}, talk to a person`, "Ada", "ada@example.com", "account");
  const { number } = await emailTicket("ada@example.com");
  await signIn(page, LI);
  await page.goto(`/console/#/ticket/${number}`);
  const panel = page.getByRole("region", { name: "Recent orders" });
  await expect(panel.locator("[data-order='#1001']")).toContainText("Celadon teapot × 1");
  await expect(panel.locator("[data-order='#1001']")).toContainText("Gift card × 1");
  await expect(panel.getByRole("link", { name: "SF1001" })).toHaveAttribute("href", "https://track.example/SF1001");
  await panel.scrollIntoViewIfNeeded();
  await shot(page, "ticket-orders");
  expect(problems).toEqual([]);
});
