// The ticket screen's side panels, in order. A panel is a function of the ticket's context
// returning an element (or null to show nothing): a new one is one function added to PANELS.

import type { App } from "./app";
import { customerPanel } from "./views/customer";
import { ordersPanel } from "./views/orders";
import { actionsPanel, assignPanel, eventsPanel, mergePanel, slaPanel } from "./views/ticket_panels";
import type { TicketView } from "./types";

export interface TicketContext {
  app: App;
  readonly view: TicketView;
  /** Re-reads the ticket and re-renders. */
  refresh(): Promise<void>;
  /** A 409: re-reads the ticket and says so; typed text stays where it is. */
  conflict(): Promise<void>;
  /** A write went through: announce it and re-read. */
  done(message: string): Promise<void>;
}

export type Panel = (ctx: TicketContext) => HTMLElement | null;

export const PANELS: Panel[] = [slaPanel, actionsPanel, assignPanel, mergePanel, customerPanel, ordersPanel, eventsPanel];
