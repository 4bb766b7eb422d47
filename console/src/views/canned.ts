// Canned responses: every agent inserts them into a reply, with the placeholders filled in
// ({customer_name}, {ticket}, {agent}); supervisors add, change and delete them.

import { type App, can, status } from "../app";
import { field, h, replace } from "../dom";
import { t } from "../i18n";
import type { Canned, CustomerView, TicketView } from "../types";

interface CannedList { responses: Canned[] }

export async function loadCanned(app: App): Promise<Canned[]> {
  try {
    return (await app.api.get<CannedList>("/v1/canned-responses")).responses;
  } catch {
    return [];
  }
}

/** The text with its placeholders filled: what the agent then edits and sends. */
export async function fillCanned(app: App, canned: Canned, view: TicketView): Promise<string> {
  let name = "";
  try {
    const customer = await app.api.get<CustomerView>(`/v1/customers/${encodeURIComponent(view.ticket.requester)}`);
    name = customer.customer.name ?? "";
  } catch {
    name = "";
  }
  const values: Record<string, string> = { customer_name: name, ticket: `#${view.ticket.number}`, agent: app.me.user };
  return canned.text.replace(/\{(customer_name|ticket|agent)\}/g, (_, k: string) => values[k]);
}

export function renderCanned(app: App, root: HTMLElement): void {
  const list = h("div", { "aria-live": "polite" }, t("loading"));
  const title = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const text = h("textarea", { rows: 4, required: true });
  // Set while a response is being edited: the form then changes it from the version read.
  let editing: Canned | null = null;
  const submit = h("button", { type: "submit" }, t("add"));
  const form = can(app, "supervisor")
    ? h(
        "form",
        {
          class: "supervisor-only canned-form",
          onsubmit: async (e: Event) => {
            e.preventDefault();
            try {
              const body = { title: title.value, text: text.value };
              if (editing) {
                await app.api.call("PUT", `/v1/canned-responses/${encodeURIComponent(editing.id)}`, { ...body, version: editing.version });
              } else {
                await app.api.call("POST", "/v1/canned-responses", body);
              }
              editing = null;
              submit.textContent = t("add");
              title.value = "";
              text.value = "";
              status(t("saved"));
              await show();
            } catch (error) {
              status(`${t("failed")}: ${(error as Error).message}`, true);
            }
          },
        },
        field(t("title"), title, "canned-title"),
        field(t("text"), text, "canned-text"),
        h("p", { class: "hint" }, t("placeholders")),
        submit,
      )
    : null;
  replace(root, h("section", { class: "canned-screen", "aria-labelledby": "canned-h" }, h("h1", { id: "canned-h" }, t("canned")), form, list));

  async function show() {
    const items = await loadCanned(app);
    if (!items.length) return replace(list, h("p", {}, t("noCanned")));
    replace(
      list,
      h(
        "ul",
        { class: "canned-list" },
        items.map((c) =>
          h(
            "li",
            {},
            h("h2", {}, c.title),
            h("p", { class: "body" }, c.text),
            can(app, "supervisor")
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "supervisor-only",
                    "aria-label": `${t("edit")} ${c.title}`,
                    onclick: () => {
                      editing = c;
                      title.value = c.title;
                      text.value = c.text;
                      submit.textContent = t("save");
                      title.focus();
                    },
                  },
                  t("edit"),
                )
              : null,
            " ",
            can(app, "supervisor")
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "supervisor-only",
                    "aria-label": `${t("delete")} ${c.title}`,
                    onclick: async () => {
                      try {
                        await app.api.call("DELETE", `/v1/canned-responses/${encodeURIComponent(c.id)}?version=${c.version}`);
                        await show();
                      } catch (error) {
                        status(`${t("failed")}: ${(error as Error).message}`, true);
                      }
                    },
                  },
                  t("delete"),
                )
              : null,
          ),
        ),
      ),
    );
  }
  void show();
}
