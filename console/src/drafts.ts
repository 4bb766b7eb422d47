// Drafts survive a reload, a crash and a conflict: every keystroke is kept in localStorage
// under the user, the ticket and the kind (reply or note), and cleared only once sent.

const PREFIX = "omnidesk.draft.";

function key(user: string, ticket: number, kind: string): string {
  return `${PREFIX}${user}.${ticket}.${kind}`;
}

export function loadDraft(user: string, ticket: number, kind: string): string {
  return localStorage.getItem(key(user, ticket, kind)) ?? "";
}

export function saveDraft(user: string, ticket: number, kind: string, text: string): void {
  if (text) localStorage.setItem(key(user, ticket, kind), text);
  else localStorage.removeItem(key(user, ticket, kind));
}
