// Cognito sign-in with SRP (amazon-cognito-identity-js, loaded only when the console is
// configured for Cognito): the password never leaves the browser; MFA (software token or
// SMS) and a forced new password when the pool asks; the ID token the API's JWT authorizer
// checks, refreshed silently from the refresh token before it expires; sign-out revokes the
// tokens.

import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
  type CognitoUserSession,
} from "amazon-cognito-identity-js";
import type { Session } from "../api";

export interface CognitoConfig { user_pool_id: string; client_id: string }

/** What the sign-in form must ask next, or the session once signed in. */
export type Step =
  | { kind: "done"; session: Session }
  | { kind: "mfa"; answer: (code: string) => Promise<Step> }
  | { kind: "new_password"; answer: (password: string) => Promise<Step> }
  | { kind: "mfa_setup"; secret: string; answer: (code: string) => Promise<Step> };

function pool(config: CognitoConfig): CognitoUserPool {
  return new CognitoUserPool({ UserPoolId: config.user_pool_id, ClientId: config.client_id });
}

function sessionOf(user: CognitoUser): Session {
  return {
    // getSession refreshes with the refresh token once the ID token is (nearly) expired.
    token: () =>
      new Promise((resolve, reject) =>
        user.getSession((error: Error | null, session: CognitoUserSession | null) =>
          error || !session ? reject(error ?? new Error("signed out")) : resolve(session.getIdToken().getJwtToken()),
        ),
      ),
    signOut: () => new Promise((resolve) => user.globalSignOut({ onSuccess: () => resolve(), onFailure: () => { user.signOut(); resolve(); } })),
  };
}

export function resumeCognito(config: CognitoConfig): Session | null {
  const user = pool(config).getCurrentUser();
  return user ? sessionOf(user) : null;
}

export function signIn(config: CognitoConfig, username: string, password: string): Promise<Step> {
  const user = new CognitoUser({ Username: username, Pool: pool(config) });
  return new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: () => resolve({ kind: "done", session: sessionOf(user) }),
      onFailure: (error: Error) => reject(error),
      totpRequired: () => resolve(mfa("SOFTWARE_TOKEN_MFA")),
      mfaRequired: () => resolve(mfa("SMS_MFA")),
      newPasswordRequired: () =>
        resolve({
          kind: "new_password",
          answer: (next: string) => again((cb) => user.completeNewPasswordChallenge(next, {}, cb)),
        }),
      mfaSetup: () =>
        user.associateSoftwareToken({
          associateSecretCode: (secret: string) =>
            resolve({
              kind: "mfa_setup",
              secret,
              answer: (code: string) =>
                again((cb) => user.verifySoftwareToken(code, "omnidesk", cb)),
            }),
          onFailure: (error: Error) => reject(error),
        }),
    };
    type Callbacks = typeof callbacks;
    const again = (start: (cb: Callbacks) => void): Promise<Step> =>
      new Promise((res, rej) => {
        const prev = { resolve: res, reject: rej };
        start({
          ...callbacks,
          onSuccess: () => prev.resolve({ kind: "done", session: sessionOf(user) }),
          onFailure: (error: Error) => prev.reject(error),
          totpRequired: () => prev.resolve(mfa("SOFTWARE_TOKEN_MFA")),
          mfaRequired: () => prev.resolve(mfa("SMS_MFA")),
        });
      });
    const mfa = (type: "SOFTWARE_TOKEN_MFA" | "SMS_MFA"): Step => ({
      kind: "mfa",
      answer: (code: string) => again((cb) => user.sendMFACode(code, cb, type)),
    });
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), callbacks);
  });
}
