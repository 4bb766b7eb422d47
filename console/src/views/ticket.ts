// One ticket: its thread across channels, the composer (reply or internal note, canned
// responses, drafts kept), and the side panels. Re-read every few seconds; a change by
// someone else shows at once, and a write from a stale version (409) shows the newer state
// and keeps what was typed.

import { ApiError } from "../api";
import { type App, POLL_MS, can, every, status } from "../app";
import { h, replace, richText } from "../dom";
import { loadDraft, saveDraft } from "../drafts";
import { t, when, word } from "../i18n";
import { PANELS, type TicketContext } from "../panels";
import type { Canned, Message, TicketView } from "../types";
import { fillCanned, loadCanned } from "./canned";

export function renderTicket(app: App, root: HTMLElement, number: number): void {
  const thread = h("ol", { class: "thread", "aria-label": t("thread") });
  const header = h("div", { class: "ticket-head" }, t("loading"));
  const banner = h("div", { class: "banner", role: "alert", hidden: true });
  const side = h("aside", { class: "side", "aria-label": t("customer") });
  let current: TicketView | null = null;
  let shownVersion = -1;

  const ctx: TicketContext = {
    app,
    get view() {
      return current!;
    },
    refresh: () => load(true),
    conflict: async () => {
      await load(true);
      banner.hidden = false;
      banner.textContent = t("conflict");
    },
    done: (message: string) => {
      banner.hidden = true;
      status(message);
      return load(true);
    },
  };

  const composer = can(app, "agent") ? renderComposer(ctx, number) : h("p", {}, t("readOnly"));
  replace(
    root,
    h(
      "div",
      { class: "ticket-screen" },
      h("p", {}, h("a", { href: "#/list/unassigned", class: "back" }, "← ", t("back"))),
      header,
      banner,
      h(
        "div",
        { class: "ticket-body" },
        h("section", { class: "conversation", "aria-label": t("thread") }, thread, composer),
        side,
      ),
    ),
  );

  async function load(force = false) {
    const view = await app.api.get<TicketView>(`/v1/tickets/${number}`);
    current = view;
    if (!force && view.ticket.version === shownVersion) return;
    shownVersion = view.ticket.version;
    const tk = view.ticket;
    replace(
      header,
      h("h1", {}, `#${tk.number} `, tk.subject || "—"),
      h(
        "p",
        { class: "meta" },
        h("span", { class: `badge status-${tk.status}`, "data-status": tk.status }, word(tk.status)),
        " ",
        h("span", { class: `badge priority-${tk.priority}` }, word(tk.priority)),
        " ",
        h("span", { class: "badge" }, word(tk.channel)),
        " ",
        `${t("team")}: ${tk.team ?? "—"} · ${t("assignee")}: `,
        h("span", { "data-assignee": tk.assignee ?? "" }, tk.assignee ?? t("nobody")),
        tk.merged_into ? ` · → #${tk.merged_into}` : "",
      ),
    );
    replace(thread, view.messages.map((m) => renderMessage(app, m)));
    replace(side, PANELS.map((panel) => panel(ctx)).filter((p): p is HTMLElement => p !== null));
  }

  every(POLL_MS, () => load());
}

function renderMessage(app: App, m: Message): HTMLElement {
  const internal = m.visibility === "internal";
  const who =
    m.author === "customer" ? t("fromCustomer") : m.author === "agent" ? t("fromAgent") : t("fromSystem");
  return h(
    "li",
    {
      class: `msg ${m.direction} ${internal ? "internal" : ""}`,
      "data-message": m.id,
      "data-visibility": m.visibility,
    },
    h(
      "header",
      {},
      internal ? h("strong", { class: "note-label" }, t("internalNote"), " · ") : null,
      h("span", {}, who, m.author_id && m.author !== "customer" ? ` ${m.author_id}` : ""),
      m.channel_ref.channel === "none" ? "" : ` · ${word(m.channel_ref.channel)}`,
      " · ",
      h("time", { datetime: m.created_at }, when(m.created_at)),
      m.flags?.length ? h("span", { class: "flags" }, ` ⚠ ${m.flags.join(", ")}`) : null,
    ),
    // Text only: whatever a mail's HTML held was turned into text by the desk, and is shown
    // as text here; links become safe anchors.
    h("div", { class: "body" }, richText(m.text)),
    m.attachments.length
      ? h(
          "ul",
          { class: "attachments", "aria-label": t("attachments") },
          m.attachments.map((a, index) =>
            h(
              "li",
              {},
              a.quarantined
                ? `${a.name} — ${t("quarantined")}`
                : h(
                    "button",
                    {
                      type: "button",
                      class: "link",
                      onclick: () => download(app, m, index),
                    },
                    `${t("download")} ${a.name} (${Math.ceil(a.size / 1024)} KB)`,
                  ),
            ),
          ),
        )
      : null,
  );
}

async function download(app: App, m: Message, index: number): Promise<void> {
  try {
    const link = await app.api.get<{ url: string }>(
      `/v1/tickets/${m.ticket}/messages/${encodeURIComponent(m.id)}/attachments/${index}`,
    );
    const a = h("a", { href: link.url, download: m.attachments[index].name, rel: "noopener noreferrer" });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (error) {
    status(`${t("failed")}: ${(error as Error).message}`, true);
  }
}

function renderComposer(ctx: TicketContext, number: number): HTMLElement {
  const user = ctx.app.me.user;
  let kind: "reply" | "note" = "reply";
  const label = h("label", { for: "composer-text" }, t("replyLabel"));
  const text = h("textarea", { id: "composer-text", rows: 5, name: "text" }) as HTMLTextAreaElement;
  text.value = loadDraft(user, number, kind);
  const send = h("button", { type: "submit", class: "primary" }, t("send"));
  const tabs = (["reply", "note"] as const).map((k) =>
    h(
      "button",
      {
        type: "button",
        class: "tab",
        "aria-pressed": String(k === kind),
        onclick: () => {
          saveDraft(user, number, kind, text.value);
          kind = k;
          text.value = loadDraft(user, number, kind);
          label.textContent = t(k === "reply" ? "replyLabel" : "noteLabel");
          send.textContent = t(k === "reply" ? "send" : "addNote");
          form.classList.toggle("noting", k === "note");
          for (const tab of tabs) tab.setAttribute("aria-pressed", String(tab.dataset.kind === k));
        },
      },
      t(k),
    ),
  );
  tabs[0].dataset.kind = "reply";
  tabs[1].dataset.kind = "note";
  text.addEventListener("input", () => saveDraft(user, number, kind, text.value));
  const canned = h("select", { id: "composer-canned", "aria-label": t("insertCanned") });
  void loadCanned(ctx.app).then((list: Canned[]) => {
    if (!list.length) return canned.remove();
    replace(
      canned,
      h("option", { value: "" }, t("insertCanned")),
      list.map((c) => h("option", { value: c.id }, c.title)),
    );
    canned.addEventListener("change", async () => {
      const chosen = list.find((c) => c.id === canned.value);
      canned.value = "";
      if (!chosen) return;
      text.value = (text.value ? `${text.value}\n` : "") + (await fillCanned(ctx.app, chosen, ctx.view));
      saveDraft(user, number, kind, text.value);
      text.focus();
    });
  });
  const form = h(
    "form",
    {
      class: "composer",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const body = text.value.trim();
        if (!body) return text.focus();
        send.disabled = true;
        try {
          await ctx.app.api.call(
            "POST",
            `/v1/tickets/${number}/${kind === "reply" ? "replies" : "notes"}`,
            { text: body, version: ctx.view.ticket.version },
            { "idempotency-key": crypto.randomUUID() },
          );
          text.value = "";
          saveDraft(user, number, kind, "");
          await ctx.done(t(kind === "reply" ? "sent" : "noted"));
        } catch (error) {
          await failed(ctx, error);
        } finally {
          send.disabled = false;
        }
      },
    },
    h("div", { class: "tabs", role: "group", "aria-label": `${t("reply")} / ${t("note")}` }, tabs),
    label,
    text,
    h("div", { class: "row" }, canned, send),
  );
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  // Shortcuts outside form fields: r to reply, n to write a note (the composer takes focus).
  onShortcut((key) => {
    const tab = tabs.find((b) => b.dataset.kind === (key === "r" ? "reply" : "note"));
    tab?.click();
    text.focus();
  });
  return form;
}

let shortcut: ((e: KeyboardEvent) => void) | undefined;

function onShortcut(act: (key: "r" | "n") => void): void {
  if (shortcut) document.removeEventListener("keydown", shortcut);
  shortcut = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement | null;
    if (e.ctrlKey || e.metaKey || e.altKey || target?.closest("input, textarea, select, [contenteditable]")) return;
    if (!document.querySelector(".composer")) return;
    if (e.key === "r" || e.key === "n") {
      e.preventDefault();
      act(e.key);
    }
  };
  document.addEventListener("keydown", shortcut);
}

/** A failed write: a conflict shows the newer state (what was typed stays); else the reason. */
export async function failed(ctx: TicketContext, error: unknown): Promise<void> {
  if (error instanceof ApiError && error.status === 409) return ctx.conflict();
  status(`${t("failed")}: ${(error as Error).message}`, true);
}
