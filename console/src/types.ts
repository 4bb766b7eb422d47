// The agent API's shapes the console reads (openapi.yaml has every field).

export type Role = "analyst" | "agent" | "supervisor" | "admin";
export interface Principal { user: string; role: Role }

export interface Timer {
  kind: string;
  target_minutes: number;
  due_at: string;
  remaining_business_seconds: number;
  state: "running" | "paused" | "met" | "breached";
  warning: boolean;
}

export interface Ticket {
  number: number;
  status: string;
  priority: string;
  channel: string;
  subject: string;
  requester: string;
  team: string | null;
  assignee: string | null;
  tags: string[];
  updated_at: string;
  created_at: string;
  merged_into: number | null;
  version: number;
  due_at: string | null;
}

export interface Attachment {
  key: string; name: string; content_type: string; size: number; inline: boolean; quarantined?: boolean;
}

export interface Message {
  id: string;
  ticket: number;
  direction: "inbound" | "outbound";
  author: "customer" | "agent" | "bot" | "system";
  author_id: string | null;
  visibility: "public" | "internal";
  text: string;
  attachments: Attachment[];
  channel_ref: { channel: string };
  created_at: string;
  flags?: string[];
}

export interface TicketEvent {
  seq: number; at: string; type: string; actor: { kind: string; id?: string };
  [more: string]: unknown;
}

export interface Shipment {
  status: string; carrier?: string; tracking_number?: string; tracking_url?: string; promised_at?: string; delivered_at?: string;
}

export interface Order {
  id: string; name: string; created_at: string; cancelled?: boolean; financial: string; fulfillment: string;
  lines: { id: string; title: string; quantity: number }[];
  shipments: Shipment[];
}

export interface TicketView {
  ticket: Ticket; messages: Message[]; events: TicketEvent[]; sla: Timer[];
  /** With a shop: the requester's recent orders, or why they are missing. */
  orders?: Order[]; orders_unavailable?: string;
}

export interface Identity { kind: string; address?: string; number?: string; inbox?: string; visitor?: string; network?: string; handle?: string }

export interface CustomerView {
  customer: { id: string; name: string | null; identities: Identity[]; unverified: Identity[]; tier: string | null };
  tickets: Ticket[];
  latest_csat: { ticket: number; score: number; at: string } | null;
  merge_candidates: { identity: Identity; customer: string }[];
}

export interface Agent {
  id: string; teams: string[]; capacity: number; load: number; presence: "online" | "away" | "offline";
}

export interface Canned { id: string; title: string; text: string; version: number }
