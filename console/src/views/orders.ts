// The requester's recent orders beside the ticket: status, items, parcels and tracking, as
// the ticket view carries them (no request of its own). When the shop did not answer, the
// panel says so and the ticket works as ever; without a shop there is no panel.

import { h } from "../dom";
import { t } from "../i18n";
import type { TicketContext } from "../panels";
import type { Order } from "../types";

/** Only web links are followed: a shop's tracking URL is data, never script. */
function safeUrl(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function order(o: Order): HTMLElement {
  const parcels = o.shipments.map((s) => {
    const url = safeUrl(s.tracking_url);
    const number = s.tracking_number ?? "—";
    return h(
      "li",
      { class: "parcel" },
      `${s.carrier ?? t("carrier")} `,
      url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, number) : number,
      ` · ${s.status.replace(/_/g, " ")}`,
    );
  });
  return h(
    "li",
    { class: "order", "data-order": o.name },
    h("strong", {}, o.name),
    ` · ${o.cancelled ? t("cancelled") : `${o.financial.replace(/_/g, " ")}, ${o.fulfillment.replace(/_/g, " ")}`}`,
    h("ul", { class: "items" }, o.lines.map((l) => h("li", {}, `${l.title} × ${l.quantity}`))),
    parcels.length ? h("ul", { class: "parcels" }, parcels) : null,
  );
}

export function ordersPanel(ctx: TicketContext): HTMLElement | null {
  const { orders, orders_unavailable: unavailable } = ctx.view;
  if (!orders && !unavailable) return null;
  const body = unavailable
    ? h("p", { class: "note", role: "status" }, t("ordersUnavailable"))
    : orders && orders.length
      ? h("ol", { class: "orders" }, orders.map(order))
      : h("p", { class: "note" }, t("noOrders"));
  return h("section", { class: "panel orders", "aria-labelledby": "panel-orders" }, h("h2", { id: "panel-orders" }, t("orders")), body);
}
