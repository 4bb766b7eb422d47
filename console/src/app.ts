// What every screen shares: the API client, who is signed in, the agents and teams, the
// polling clock, and the status line.

import type { Api } from "./api";
import type { Agent, Principal, Role } from "./types";

export interface App {
  api: Api;
  me: Principal;
  agents: Agent[];
  teams: string[];
  /** Re-renders the current screen (after a language switch, say). */
  rerender(): void;
}

const RANK: Record<Role, number> = { analyst: 0, agent: 1, supervisor: 2, admin: 3 };

/** The role allows it; the API checks again and answers 403 when not. */
export function can(app: App, role: Role): boolean {
  return RANK[app.me.role] >= RANK[role];
}

/** The signed-in person's first team, else the first team anyone is in. */
export function homeTeam(app: App): string | null {
  const own = app.agents.find((a) => a.id === app.me.user);
  return own?.teams[0] ?? app.teams[0] ?? null;
}

/** Live updates: how often a screen re-reads what it shows (a 304 when nothing changed). */
export const POLL_MS = 3000;
export const SLOW_POLL_MS = 15000;

let timers: number[] = [];

/** Runs `fn` now and every `ms` while the page is visible, until the screen changes. */
export function every(ms: number, fn: () => Promise<void> | void): void {
  let running = false;
  const tick = async () => {
    if (running || document.hidden) return;
    running = true;
    try {
      await fn();
    } catch (error) {
      status(String((error as Error).message ?? error), true);
    } finally {
      running = false;
    }
  };
  void tick();
  timers.push(window.setInterval(tick, ms));
}

export function stopPolling(): void {
  for (const id of timers) window.clearInterval(id);
  timers = [];
}

/** The polite status line screen readers announce. */
export function status(text: string, error = false): void {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = text;
  el.className = error ? "status error" : "status";
}
