// Local desk sign-in: a bearer token from the desk's config, kept for this tab only.

import type { Session } from "../api";

const KEY = "omnidesk.token";

export function localSession(token: string): Session {
  sessionStorage.setItem(KEY, token);
  return {
    token: async () => token,
    signOut: async () => sessionStorage.removeItem(KEY),
  };
}

export function resumeLocal(): Session | null {
  const token = sessionStorage.getItem(KEY);
  return token ? localSession(token) : null;
}
