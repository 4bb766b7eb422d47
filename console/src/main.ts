// The console's start: read how to sign in (config.json beside the page), resume or sign in,
// then the shell (header, navigation, status line) and the screen the URL's hash names.

import { Api, type Session } from "./api";
import { type App, can, status, stopPolling } from "./app";
import { resumeLocal } from "./auth/local";
import { h, replace } from "./dom";
import { type Lang, lang, setLang, t, word } from "./i18n";
import type { Agent, Principal } from "./types";
import { renderSignIn } from "./views/signin";

export interface ConsoleConfig {
  /** "local": the desk's bearer tokens; "cognito": the stack's user pool. */
  auth: "local" | "cognito";
  /** The agent API's origin ("" when the same as the console's). */
  api: string;
  user_pool_id?: string;
  client_id?: string;
}

async function start(): Promise<void> {
  setLang(lang());
  const config: ConsoleConfig = await fetch("config.json", { cache: "no-store" })
    .then((r) => r.json())
    .catch(() => ({ auth: "local", api: "" }));
  let session: Session | null = null;
  if (config.auth === "cognito" && config.user_pool_id && config.client_id) {
    const { resumeCognito } = await import("./auth/cognito");
    session = resumeCognito({ user_pool_id: config.user_pool_id, client_id: config.client_id });
  } else {
    session = resumeLocal();
  }
  if (session && (await open(config, session))) return;
  renderSignIn(document.getElementById("root")!, config, (next) => open(config, next));
}

/** Signs in with `session`: false when the desk refuses its token. */
async function open(config: ConsoleConfig, session: Session): Promise<boolean> {
  const signOut = async () => {
    stopPolling();
    await session.signOut();
    location.hash = "";
    location.reload();
  };
  const api = new Api(config.api, session, () => void signOut());
  let me: Principal;
  try {
    me = await api.call<Principal>("GET", "/v1/me");
  } catch {
    await session.signOut();
    return false;
  }
  const agents = await api.get<Agent[]>("/v1/agents").catch(() => [] as Agent[]);
  const app: App = {
    api,
    me,
    agents,
    teams: [...new Set(agents.flatMap((a) => a.teams))].sort(),
    rerender: () => route(app, signOut),
  };
  (window as unknown as { omnidesk: unknown }).omnidesk = { api };
  window.addEventListener("hashchange", () => route(app, signOut));
  route(app, signOut);
  return true;
}

async function route(app: App, signOut: () => Promise<void>): Promise<void> {
  stopPolling();
  const root = document.getElementById("root")!;
  const main = h("main", { id: "main", tabindex: -1 });
  replace(root, shell(app, signOut), main);
  const [, screen, arg] = location.hash.split("/");
  if (screen === "ticket" && /^\d+$/.test(arg ?? "")) {
    const { renderTicket } = await import("./views/ticket");
    renderTicket(app, main, Number(arg));
  } else if (screen === "team" && can(app, "supervisor")) {
    const { renderTeam } = await import("./views/team");
    renderTeam(app, main);
  } else if (screen === "canned") {
    const { renderCanned } = await import("./views/canned");
    renderCanned(app, main);
  } else {
    const { renderList, VIEWS } = await import("./views/list");
    const view = VIEWS.find((v) => v === arg) ?? (app.agents.some((a) => a.id === app.me.user) ? "unassigned" : "all");
    renderList(app, main, view);
  }
  document.title = `${t("app")}`;
  // A new screen: keyboard and screen-reader users start at its content.
  main.focus({ preventScroll: true });
}

function shell(app: App, signOut: () => Promise<void>): HTMLElement {
  const own = app.agents.find((a) => a.id === app.me.user);
  const presence = own && can(app, "agent")
    ? h(
        "select",
        {
          id: "presence",
          "aria-label": t("presence"),
          onchange: async (e: Event) => {
            const value = (e.target as HTMLSelectElement).value;
            try {
              await app.api.call("PUT", "/v1/agents/me/presence", { presence: value });
              own.presence = value as Agent["presence"];
              status(`${t("presence")}: ${t(value as "online")}`);
            } catch (error) {
              status(`${t("failed")}: ${(error as Error).message}`, true);
            }
          },
        },
        (["online", "away", "offline"] as const).map((p) => h("option", { value: p, selected: own.presence === p }, t(p))),
      )
    : null;
  const language = h(
    "select",
    {
      id: "language",
      "aria-label": t("language"),
      onchange: (e: Event) => {
        setLang((e.target as HTMLSelectElement).value as Lang);
        app.rerender();
      },
    },
    h("option", { value: "en", selected: lang() === "en", lang: "en" }, "English"),
    h("option", { value: "zh-CN", selected: lang() === "zh-CN", lang: "zh-CN" }, "中文"),
  );
  return h(
    "header",
    { class: "top" },
    h("a", { href: "#main", class: "skip" }, t("skip")),
    h("strong", { class: "brand" }, t("app")),
    h(
      "nav",
      { "aria-label": "main" },
      h("a", { href: "#/list/unassigned" }, t("views")),
      can(app, "supervisor") ? h("a", { href: "#/team", class: "supervisor-only" }, t("teamView")) : null,
      h("a", { href: "#/canned" }, t("canned")),
    ),
    h("div", { class: "who" }, presence, language, h("span", { class: "user" }, `${app.me.user} · ${word(app.me.role)}`),
      h("button", { type: "button", onclick: () => void signOut() }, t("signOut"))),
    h("p", { id: "status", class: "status", role: "status", "aria-live": "polite" }),
  );
}

void start();
