// The sign-in screen: a bearer token on the local desk; user name and password (SRP), then
// whatever the user pool asks (MFA code, new password, authenticator setup) on AWS.

import type { Session } from "../api";
import { localSession } from "../auth/local";
import type { Step } from "../auth/cognito";
import { type Child, field, h, replace } from "../dom";
import { t } from "../i18n";
import type { ConsoleConfig } from "../main";

export function renderSignIn(root: HTMLElement, config: ConsoleConfig, open: (s: Session) => Promise<boolean>): void {
  const error = h("p", { class: "error", role: "alert" });
  const fail = (message: string) => (error.textContent = `${t("signInFailed")}: ${message}`);
  const main = h("main", { id: "main", class: "signin" });
  replace(root, main);
  /** One step of signing in: its fields, and what the submit button does. */
  const form = (label: string, submit: () => Promise<unknown>, ...fields: Child[]) =>
    replace(
      main,
      h("h1", {}, t("app")),
      h(
        "form",
        {
          onsubmit: (e: Event) => {
            e.preventDefault();
            submit().catch((err: Error) => fail(err.message));
          },
        },
        fields,
        h("button", { type: "submit", class: "primary" }, label),
        error,
      ),
    );

  if (config.auth !== "cognito") {
    const token = h("input", { type: "password", name: "token", autocomplete: "current-password", required: true });
    form(
      t("signIn"),
      async () => (await open(localSession(token.value.trim()))) || fail("401"),
      field(t("token"), token, "signin-token"),
      h("p", { class: "hint" }, t("tokenHint")),
    );
    return;
  }
  const ask = async (step: Step): Promise<unknown> => {
    if (step.kind === "done") return (await open(step.session)) || fail("403");
    const secret = step.kind === "new_password";
    const answer = h("input", { type: secret ? "password" : "text", required: true, autocomplete: secret ? "new-password" : "one-time-code" });
    const prompt = step.kind === "mfa" ? t("mfaPrompt") : secret ? t("newPasswordPrompt") : `${t("mfaSetup")} ${step.secret}`;
    form(
      t("continue"),
      async () => ask(await step.answer(answer.value.trim())),
      h("p", {}, prompt),
      field(secret ? t("newPassword") : t("mfaCode"), answer, "signin-answer"),
    );
    answer.focus();
  };
  const user = h("input", { type: "text", name: "username", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  form(
    t("signIn"),
    async () => {
      const { signIn } = await import("../auth/cognito");
      const pool = { user_pool_id: config.user_pool_id!, client_id: config.client_id! };
      return ask(await signIn(pool, user.value.trim(), password.value));
    },
    field(t("username"), user, "signin-user"),
    field(t("password"), password, "signin-password"),
  );
}
