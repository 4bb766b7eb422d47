// The ticket's own panels: live SLA timers, status/priority/tags, assignment, merging, and
// the audit trail.

import { type App, can } from "../app";
import { field, h } from "../dom";
import { type Key, t, when, word } from "../i18n";
import type { TicketContext } from "../panels";
import type { Timer } from "../types";
import { failed } from "./ticket";

function panel(title: string, cls: string, ...body: (HTMLElement | null)[]): HTMLElement {
  const id = `panel-${cls}`;
  return h("section", { class: `panel ${cls}`, "aria-labelledby": id }, h("h2", { id }, title), ...body);
}

let clock: number | undefined;

/** Timers count down every second between reads; each read resets them to the desk's figure. */
export function slaPanel(ctx: TicketContext): HTMLElement | null {
  const timers = ctx.view.sla;
  if (!timers.length) return null;
  const read = Date.now();
  const rows = timers.map((timer) => {
    const out = h("span", { class: "remaining" });
    const tick = () => {
      const elapsed = timer.state === "running" ? Math.floor((Date.now() - read) / 1000) : 0;
      out.textContent = describe(timer, timer.remaining_business_seconds - elapsed);
      out.className = `remaining ${timer.state} ${timer.warning ? "warning" : ""}`;
    };
    tick();
    return { tick, el: h("li", {}, h("span", {}, t(timer.kind as Key)), " ", out, " ", h("time", { datetime: timer.due_at }, when(timer.due_at))) };
  });
  window.clearInterval(clock);
  clock = window.setInterval(() => rows.forEach((r) => r.tick()), 1000);
  return panel(t("sla"), "sla", h("ul", {}, rows.map((r) => r.el)));
}

function describe(timer: Timer, seconds: number): string {
  if (timer.state === "met") return t("met");
  if (timer.state === "breached" || seconds < 0) return `${t("overdue")} ${clock_(-seconds)}`;
  return `${clock_(seconds)} ${t("remaining")}${timer.state === "paused" ? ` (${t("paused")})` : ""}`;
}

function clock_(s: number): string {
  const abs = Math.max(0, Math.floor(s));
  const hh = Math.floor(abs / 3600);
  const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, "0");
  const ss = String(abs % 60).padStart(2, "0");
  return `${hh}:${mm}:${ss}`;
}

function options(values: string[], chosen: string): HTMLElement[] {
  return values.map((v) => h("option", { value: v, selected: v === chosen }, word(v)));
}

export function actionsPanel(ctx: TicketContext): HTMLElement | null {
  if (!can(ctx.app, "agent")) return null;
  const tk = ctx.view.ticket;
  const statusSel = h("select", {}, options(["new", "open", "pending", "on_hold", "solved", "closed"], tk.status));
  const prioSel = h("select", {}, options(["low", "normal", "high", "urgent"], tk.priority));
  const tags = h("input", { type: "text", value: tk.tags.join(", "), autocomplete: "off" });
  const form = h(
    "form",
    {
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const patch: Record<string, unknown> = { version: tk.version };
        if (statusSel.value !== tk.status) patch.status = statusSel.value;
        if (prioSel.value !== tk.priority) patch.priority = prioSel.value;
        const nextTags = [...new Set(tags.value.split(",").map((s) => s.trim()).filter(Boolean))];
        if (nextTags.join(",") !== tk.tags.join(",")) patch.tags = nextTags;
        try {
          await ctx.app.api.call("PATCH", `/v1/tickets/${tk.number}`, patch);
          await ctx.done(t("saved"));
        } catch (error) {
          await failed(ctx, error);
        }
      },
    },
    field(t("status"), statusSel, "ticket-status"),
    field(t("priority"), prioSel, "ticket-priority"),
    field(t("tags"), tags, "ticket-tags"),
    h("button", { type: "submit" }, t("save")),
  );
  return panel(t("details"), "actions", form);
}

async function assign(ctx: TicketContext, agent: string | null): Promise<void> {
  const tk = ctx.view.ticket;
  try {
    if (agent) await ctx.app.api.call("POST", `/v1/tickets/${tk.number}/assignment`, { agent, version: tk.version });
    else await ctx.app.api.call("PATCH", `/v1/tickets/${tk.number}`, { version: tk.version, assignee: null });
    await ctx.done(t("saved"));
  } catch (error) {
    await failed(ctx, error);
  }
}

/** Agents take a ticket or give it back; supervisors hand it to anyone. */
export function assignPanel(ctx: TicketContext): HTMLElement | null {
  const app: App = ctx.app;
  if (!can(app, "agent")) return null;
  const tk = ctx.view.ticket;
  const mine = tk.assignee === app.me.user;
  const buttons = h(
    "div",
    { class: "row" },
    !mine && app.agents.some((a) => a.id === app.me.user)
      ? h("button", { type: "button", onclick: () => assign(ctx, app.me.user) }, t("assignToMe"))
      : null,
    tk.assignee && (mine || can(app, "supervisor"))
      ? h("button", { type: "button", onclick: () => assign(ctx, null) }, t("unassign"))
      : null,
  );
  let reassign: HTMLElement | null = null;
  if (can(app, "supervisor")) {
    const who = h("select", {}, app.agents.map((a) => h("option", { value: a.id, selected: a.id === tk.assignee }, `${a.id} (${a.load}/${a.capacity})`)));
    reassign = h(
      "form",
      { class: "supervisor-only", onsubmit: (e: Event) => { e.preventDefault(); void assign(ctx, who.value); } },
      field(t("assignTo"), who, "ticket-assign-to"),
      h("button", { type: "submit" }, t("assign")),
    );
  }
  return h("section", { class: "panel assign", "aria-labelledby": "panel-assign" }, h("h2", { id: "panel-assign" }, t("assignee")), buttons, reassign);
}

export function mergePanel(ctx: TicketContext): HTMLElement | null {
  if (!can(ctx.app, "agent") || ctx.view.ticket.merged_into) return null;
  const tk = ctx.view.ticket;
  const into = h("input", { type: "number", min: 1, inputmode: "numeric" });
  const across = can(ctx.app, "supervisor") ? h("input", { type: "checkbox", id: "merge-across" }) : null;
  return panel(
    t("merge"),
    "merge",
    h(
      "form",
      {
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const target = Number(into.value);
          if (!Number.isInteger(target) || target < 1) return into.focus();
          try {
            await ctx.app.api.call("POST", `/v1/tickets/${tk.number}/merge`, { into: target, across_customers: across?.checked ?? false });
            await ctx.done(t("saved"));
          } catch (error) {
            await failed(ctx, error);
          }
        },
      },
      field(t("mergeInto"), into, "merge-into"),
      across ? h("div", { class: "check supervisor-only" }, across, h("label", { for: "merge-across" }, t("acrossCustomers"))) : null,
      h("button", { type: "submit" }, t("merge")),
    ),
  );
}

export function eventsPanel(ctx: TicketContext): HTMLElement {
  const events = ctx.view.events;
  return h(
    "details",
    { class: "panel events" },
    h("summary", {}, `${t("events")} (${events.length})`),
    h(
      "ol",
      {},
      events.map((ev) =>
        h("li", {}, h("time", { datetime: ev.at }, when(ev.at)), ` ${ev.type} · ${ev.actor.kind}${ev.actor.id ? ` ${ev.actor.id}` : ""}`),
      ),
    ),
  );
}
