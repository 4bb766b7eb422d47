// The supervisor's team view: every agent's presence and load against capacity, each team's
// waiting queue and its tickets at SLA risk, every agent's tickets — and reassignment from
// here.

import { type App, SLOW_POLL_MS, every, status } from "../app";
import { h, replace } from "../dom";
import { t, word } from "../i18n";
import type { Agent, Ticket } from "../types";

interface Page { tickets: Ticket[]; next_cursor: string | null }

export function renderTeam(app: App, root: HTMLElement): void {
  const agents = h("div", {}, t("loading"));
  const teams = h("div", {});
  const byAgent = h("div", {});
  replace(
    root,
    h(
      "section",
      { class: "team-screen", "aria-labelledby": "team-h" },
      h("h1", { id: "team-h" }, t("teamView")),
      h("h2", {}, t("agents")),
      agents,
      teams,
      byAgent,
    ),
  );
  every(SLOW_POLL_MS / 3, async () => {
    const list = await app.api.get<Agent[]>("/v1/agents");
    app.agents = list;
    replace(agents, agentTable(list));
    const sections: HTMLElement[] = [];
    for (const team of app.teams) {
      const waiting = await app.api.get<Page>(`/v1/tickets?team=${encodeURIComponent(team)}&assignee=none&limit=100`);
      const risk = await app.api.get<Page>(`/v1/tickets?view=breaching_soon&team=${encodeURIComponent(team)}&limit=100`);
      const open = (tk: Ticket) => !["solved", "closed"].includes(tk.status);
      sections.push(
        h(
          "section",
          { class: "team", "aria-labelledby": `team-${team}` },
          h("h2", { id: `team-${team}` }, `${t("team")}: ${team}`),
          h("p", {}, `${t("queue")}: ${waiting.tickets.filter(open).length}`),
          h("h3", {}, `${t("atRisk")}: ${risk.tickets.length}`),
          ticketTable(app, risk.tickets, `risk-${team}`),
        ),
      );
    }
    replace(teams, sections);
    const rows: HTMLElement[] = [];
    for (const agent of list) {
      const page = await app.api.get<Page>(`/v1/tickets?assignee=${encodeURIComponent(agent.id)}&limit=100`);
      const open = page.tickets.filter((tk) => !["solved", "closed"].includes(tk.status));
      rows.push(
        h("section", { class: "agent-tickets", "aria-labelledby": `agent-${agent.id}` },
          h("h3", { id: `agent-${agent.id}` }, `${agent.id}: ${open.length}`),
          ticketTable(app, open, `agent-${agent.id}`)),
      );
    }
    replace(byAgent, h("h2", {}, t("reassign")), rows);
  });
}

function agentTable(agents: Agent[]): HTMLElement {
  return h(
    "table",
    { class: "agents" },
    h("thead", {}, h("tr", {}, [t("agents"), t("team"), t("presence"), t("load")].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      agents.map((a) =>
        h(
          "tr",
          { "data-agent": a.id },
          h("th", { scope: "row" }, a.id),
          h("td", {}, a.teams.join(", ")),
          h("td", {}, h("span", { class: `presence ${a.presence}` }, t(a.presence))),
          h("td", {}, h("meter", { min: 0, max: a.capacity, value: a.load, "aria-label": `${t("load")} ${a.id}` }), ` ${a.load}/${a.capacity}`),
        ),
      ),
    ),
  );
}

function ticketTable(app: App, tickets: Ticket[], id: string): HTMLElement | null {
  if (!tickets.length) return null;
  return h(
    "table",
    { class: "risk" },
    h("tbody", {}, tickets.map((tk) => {
      const who = h("select", { id: `${id}-${tk.number}`, "aria-label": `${t("reassign")} #${tk.number}` },
        app.agents.map((a) => h("option", { value: a.id, selected: a.id === tk.assignee }, a.id)));
      return h(
        "tr",
        { "data-ticket": tk.number },
        h("td", {}, h("a", { href: `#/ticket/${tk.number}` }, `#${tk.number}`)),
        h("td", {}, tk.subject),
        h("td", {}, word(tk.status)),
        h("td", {}, tk.assignee ?? t("nobody")),
        h("td", {}, who, " ", h("button", {
          type: "button",
          onclick: async () => {
            try {
              await app.api.call("POST", `/v1/tickets/${tk.number}/assignment`, { agent: who.value, version: tk.version });
              status(t("saved"));
              app.rerender();
            } catch (error) {
              status(`${t("failed")}: ${(error as Error).message}`, true);
            }
          },
        }, t("reassign"))),
      );
    })),
  );
}
