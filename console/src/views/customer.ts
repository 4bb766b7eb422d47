// The customer panel: every identity the channels vouched for, unverified details, the
// latest rating, every ticket of the customer on every channel, and (supervisors) merging
// the customer into another.

import { can, status } from "../app";
import { field, h, replace } from "../dom";
import { t, when, word } from "../i18n";
import type { TicketContext } from "../panels";
import type { CustomerView, Identity } from "../types";

function identity(i: Identity): string {
  switch (i.kind) {
    case "email": return `✉ ${i.address}`;
    case "phone": return `☎ ${i.number}`;
    case "chat_visitor": return `💬 ${i.inbox}/${i.visitor}`;
    default: return `${i.network ?? i.kind} ${i.handle ?? ""}`;
  }
}

export function customerPanel(ctx: TicketContext): HTMLElement {
  const body = h("div", {}, t("loading"));
  const requester = ctx.view.ticket.requester;
  void ctx.app.api
    .get<CustomerView>(`/v1/customers/${encodeURIComponent(requester)}`)
    .then((view) => fill(ctx, body, view))
    .catch((error: Error) => replace(body, error.message));
  return h("section", { class: "panel customer", "aria-labelledby": "panel-customer" }, h("h2", { id: "panel-customer" }, t("customer")), body);
}

function fill(ctx: TicketContext, body: HTMLElement, view: CustomerView): void {
  const c = view.customer;
  const list = (items: string[]) => h("ul", {}, items.map((i) => h("li", {}, i)));
  let merge: HTMLElement | null = null;
  if (can(ctx.app, "supervisor")) {
    const into = h("input", { type: "text", list: "merge-candidates", autocomplete: "off", placeholder: "cus_…" });
    merge = h(
      "form",
      {
        class: "supervisor-only",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          if (!into.value.trim()) return into.focus();
          try {
            await ctx.app.api.call("POST", `/v1/customers/${encodeURIComponent(c.id)}/merge`, { into: into.value.trim() });
            await ctx.done(t("saved"));
          } catch (error) {
            status(`${t("failed")}: ${(error as Error).message}`, true);
          }
        },
      },
      field(t("mergeCustomer"), into, "merge-customer"),
      h("datalist", { id: "merge-candidates" }, view.merge_candidates.map((m) => h("option", { value: m.customer }, identity(m.identity)))),
      h("button", { type: "submit" }, t("merge")),
    );
  }
  replace(
    body,
    h("p", { class: "customer-name" }, c.name ?? c.id, c.tier ? ` · ${c.tier}` : ""),
    h("h3", {}, t("identities")),
    list(c.identities.map(identity)),
    c.unverified.length ? [h("h3", {}, t("unverified")), list(c.unverified.map(identity))] : null,
    view.latest_csat ? h("p", {}, `${t("csat")}: ${view.latest_csat.score}/5 (#${view.latest_csat.ticket})`) : null,
    view.merge_candidates.length
      ? [h("h3", {}, t("mergeCandidates")), list(view.merge_candidates.map((m) => `${m.customer} · ${identity(m.identity)}`))]
      : null,
    h("h3", {}, t("customerTickets")),
    h(
      "ul",
      { class: "customer-tickets" },
      view.tickets.map((tk) =>
        h("li", {}, h("a", { href: `#/ticket/${tk.number}` }, `#${tk.number}`), ` ${word(tk.channel)} · ${word(tk.status)} · ${tk.subject} · ${when(tk.created_at)}`),
      ),
    ),
    merge,
  );
}
