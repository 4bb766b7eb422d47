// The sign-in screen: a bearer token on the local desk; user name and password (SRP), then
// whatever the user pool asks (MFA code, new password, authenticator setup) on AWS.

import type { Session } from "../api";
import { localSession } from "../auth/local";
import { field, h, replace } from "../dom";
import { t } from "../i18n";
import type { ConsoleConfig } from "../main";
import type { Step } from "../auth/cognito";

export function renderSignIn(root: HTMLElement, config: ConsoleConfig, open: (s: Session) => Promise<boolean>): void {
  const error = h("p", { class: "error", role: "alert" });
  const fail = (message: string) => (error.textContent = `${t("signInFailed")}: ${message}`);
  const main = h("main", { id: "main", class: "signin" });
  replace(root, main);
  if (config.auth !== "cognito") {
    const token = h("input", { type: "password", name: "token", autocomplete: "current-password", required: true });
    replace(
      main,
      h("h1", {}, t("app")),
      h(
        "form",
        {
          onsubmit: async (e: Event) => {
            e.preventDefault();
            if (!(await open(localSession(token.value.trim())))) fail("401");
          },
        },
        field(t("token"), token, "signin-token"),
        h("p", { class: "hint" }, t("tokenHint")),
        h("button", { type: "submit", class: "primary" }, t("signIn")),
        error,
      ),
    );
    return;
  }
  const user = h("input", { type: "text", name: "username", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const ask = (step: Step) => {
    if (step.kind === "done") {
      void open(step.session).then((ok) => ok || fail("403"));
      return;
    }
    const answer = h("input", { type: step.kind === "new_password" ? "password" : "text", required: true, autocomplete: step.kind === "new_password" ? "new-password" : "one-time-code" });
    const prompt = step.kind === "mfa" ? t("mfaPrompt") : step.kind === "new_password" ? t("newPasswordPrompt") : `${t("mfaSetup")} ${step.secret}`;
    replace(
      main,
      h("h1", {}, t("app")),
      h(
        "form",
        {
          onsubmit: (e: Event) => {
            e.preventDefault();
            step.answer(answer.value.trim()).then(ask, (err: Error) => fail(err.message));
          },
        },
        h("p", {}, prompt),
        field(step.kind === "new_password" ? t("newPassword") : t("mfaCode"), answer, "signin-answer"),
        h("button", { type: "submit", class: "primary" }, t("continue")),
        error,
      ),
    );
    answer.focus();
  };
  replace(
    main,
    h("h1", {}, t("app")),
    h(
      "form",
      {
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const { signIn } = await import("../auth/cognito");
          signIn({ user_pool_id: config.user_pool_id!, client_id: config.client_id! }, user.value.trim(), password.value)
            .then(ask, (err: Error) => fail(err.message));
        },
      },
      field(t("username"), user, "signin-user"),
      field(t("password"), password, "signin-password"),
      h("button", { type: "submit", class: "primary" }, t("signIn")),
      error,
    ),
  );
}
