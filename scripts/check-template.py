#!/usr/bin/env python3
"""omnidesk's own rules for template.yaml, for what cfn-lint does not catch.

cfn-lint was seen to accept an unknown runtime name and a misspelt FunctionResponseTypes
value, and nothing checks a queue's visibility timeout against the function that consumes
it. This script asserts, naming the resource that breaks a rule:

- every AWS::Serverless::Function runs on provided.al2023 (own property or Globals), has
  Handler bootstrap, BuildMethod rust-cargolambda and a BuildProperties.Binary that is a
  binary of the workspace member functions/<Binary> (only noted while that crate does not
  exist yet); Binary names are unique;
- every function logs to an AWS::Logs::LogGroup of this template that has RetentionInDays;
- every SQS event source (SAM `Type: SQS` event or AWS::Lambda::EventSourceMapping on a
  queue of this template) has FunctionResponseTypes exactly [ReportBatchItemFailures];
- every queue that is not a dead-letter queue has a RedrivePolicy to a queue of this
  template with maxReceiveCount >= 5, its DLQ keeps messages at least as long as it does,
  and its VisibilityTimeout is >= 6 x the Timeout of every function consuming it; a queue
  that is the OnFailure destination of an asynchronous invocation counts as a DLQ;
- every function a service invokes asynchronously (an AWS::Lambda::Permission for a service
  principal other than API Gateway) has an AWS::Lambda::EventInvokeConfig with a literal
  MaximumRetryAttempts and an OnFailure destination on a queue of this template, and every
  such permission is scoped with SourceAccount or SourceArn;
- every dead-letter queue has a CloudWatch alarm on ApproximateNumberOfMessagesVisible that
  notifies someone (AlarmActions), and every function an alarm on its Errors;
- every S3 bucket blocks all public access and has default encryption;
- no function environment (own or Globals) carries the desk configuration or a secret: no
  OMNIDESK_CONFIG variable, no value that refers to a NoEcho parameter, no variable named like
  a secret; instead every function gets OMNIDESK_CONFIG_BUCKET (a versioned bucket of this
  template) and OMNIDESK_CONFIG_KEY, and its role may s3:GetObject in that bucket;
- only the roles of functions whose crate turns on omnidesk-aws's "secrets" feature may call
  secretsmanager, every such function's role may, and never on Resource "*" or every secret.

Run with the venv's Python (it uses cfn-lint's YAML loader, which understands !Ref, !Sub,
!GetAtt ...): python scripts/check-template.py [template.yaml] [--workspace DIR]
Exit status 0 when every rule holds, 1 otherwise (each violation on stderr).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

CONFIG_BUCKET_VAR = "OMNIDESK_CONFIG_BUCKET"
CONFIG_KEY_VAR = "OMNIDESK_CONFIG_KEY"
SECRET_LIKE = ("SECRET", "TOKEN", "PASSWORD", "PRIVATE_KEY", "API_KEY")
RUNTIME = "provided.al2023"
HANDLER = "bootstrap"
BUILD_METHOD = "rust-cargolambda"
RESPONSE_TYPES = ["ReportBatchItemFailures"]
MIN_MAX_RECEIVE_COUNT = 5
VISIBILITY_FACTOR = 6

# Service defaults, used when a property is absent.
LAMBDA_DEFAULT_TIMEOUT = 3
SQS_DEFAULT_VISIBILITY_TIMEOUT = 30
SQS_DEFAULT_RETENTION = 345600


class Checker:
    def __init__(self, template: dict[str, Any], workspace: Path | None) -> None:
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.template_params: dict[str, Any] = template.get("Parameters") or {}
        self.globals_fn: dict[str, Any] = (template.get("Globals") or {}).get("Function") or {}
        self.workspace = workspace
        self.errors: list[str] = []
        self.notes: list[str] = []

    def fail(self, resource: str, message: str) -> None:
        self.errors.append(f"{resource}: {message}")

    def of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if isinstance(v, dict) and v.get("Type") == type_name}

    def fn_prop(self, props: dict[str, Any], name: str) -> Any:
        """A function property, falling back to Globals.Function like SAM does."""
        return props[name] if name in props else self.globals_fn.get(name)

    def getatt_target(self, value: Any, attribute: str) -> str | None:
        """The logical id X of `!GetAtt X.<attribute>` (either spelling), else None."""
        if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
            target = value["Fn::GetAtt"]
            if isinstance(target, str):
                target = target.split(".", 1)
            if isinstance(target, list) and len(target) == 2 and target[1] == attribute:
                return str(target[0])
        return None

    def ref_target(self, value: Any) -> str | None:
        if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str):
            return value["Ref"]
        return None

    @staticmethod
    def literal_int(value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return None

    # --- functions -----------------------------------------------------------------------

    def check_binary(self, function: str, binary: str) -> None:
        """functions/<binary> must be a workspace member whose crate builds bin <binary>.

        A crate that does not exist yet is only noted: the template may be written before
        the function (sam build will fail until it exists)."""
        assert self.workspace is not None
        member = f"functions/{binary}"
        crate = self.workspace / member / "Cargo.toml"
        if not crate.is_file():
            self.notes.append(f"{function}: {member}/Cargo.toml does not exist yet, Binary {binary!r} not checked")
            return
        manifest = tomllib.loads((self.workspace / "Cargo.toml").read_text())
        members = {str(m).rstrip("/") for m in manifest.get("workspace", {}).get("members", [])}
        if member not in members:
            self.fail(function, f"Binary {binary!r}: {member} is not a member of the Cargo workspace")
        pkg = tomllib.loads(crate.read_text())
        bins = {b.get("name") for b in pkg.get("bin", []) if isinstance(b, dict)}
        if pkg.get("package", {}).get("autobins", True) and (crate.parent / "src" / "main.rs").is_file():
            bins.add(pkg.get("package", {}).get("name"))
        bins = {b for b in bins if b}
        if binary not in bins:
            self.fail(function, f"Binary {binary!r}: {member}/Cargo.toml builds {sorted(bins)}, not {binary!r}")

    def check_functions(self) -> dict[str, int]:
        """Checks every function; returns its effective Timeout by logical id."""
        timeouts: dict[str, int] = {}
        binaries: dict[str, str] = {}
        for name, res in self.of_type("AWS::Serverless::Function").items():
            props = res.get("Properties") or {}
            meta = res.get("Metadata") or {}

            runtime = self.fn_prop(props, "Runtime")
            if runtime != RUNTIME:
                self.fail(name, f"Runtime is {runtime!r} (own or Globals), must be {RUNTIME!r}")
            handler = self.fn_prop(props, "Handler")
            if handler != HANDLER:
                self.fail(name, f"Handler is {handler!r}, must be {HANDLER!r} for a custom runtime")
            if meta.get("BuildMethod") != BUILD_METHOD:
                self.fail(name, f"Metadata.BuildMethod is {meta.get('BuildMethod')!r}, must be {BUILD_METHOD!r}")

            binary = (meta.get("BuildProperties") or {}).get("Binary")
            if not isinstance(binary, str) or not binary:
                self.fail(name, "Metadata.BuildProperties.Binary must name the function's binary")
            else:
                if binary in binaries:
                    self.fail(name, f"Binary {binary!r} is also built for {binaries[binary]}")
                binaries[binary] = name
                if self.workspace is not None:
                    self.check_binary(name, binary)

            timeout_value = self.fn_prop(props, "Timeout")
            timeout = LAMBDA_DEFAULT_TIMEOUT if timeout_value is None else self.literal_int(timeout_value)
            if timeout is None:
                self.fail(name, f"Timeout must be a literal number of seconds to be checked, got {timeout_value!r}")
            else:
                timeouts[name] = timeout

            log_group = self.ref_target((self.fn_prop(props, "LoggingConfig") or {}).get("LogGroup"))
            group = self.resources.get(log_group or "", {})
            if not log_group or group.get("Type") != "AWS::Logs::LogGroup":
                self.fail(name, "LoggingConfig.LogGroup must !Ref an AWS::Logs::LogGroup of this template")
            elif "RetentionInDays" not in (group.get("Properties") or {}):
                self.fail(log_group, f"log group of {name} has no RetentionInDays")
        return timeouts

    # --- event sources -------------------------------------------------------------------

    def check_response_types(self, where: str, value: Any) -> None:
        if value != RESPONSE_TYPES:
            self.fail(where, f"FunctionResponseTypes is {value!r}, must be exactly {RESPONSE_TYPES!r}")

    def sqs_consumers(self) -> list[tuple[str, str, str]]:
        """(event where, queue logical id, function logical id) for every SQS event source."""
        consumers: list[tuple[str, str, str]] = []
        queues = self.of_type("AWS::SQS::Queue")
        for fn, res in self.of_type("AWS::Serverless::Function").items():
            events = (res.get("Properties") or {}).get("Events") or {}
            for event_name, event in events.items():
                if not isinstance(event, dict) or event.get("Type") != "SQS":
                    continue
                where = f"{fn}.Events.{event_name}"
                eprops = event.get("Properties") or {}
                self.check_response_types(where, eprops.get("FunctionResponseTypes"))
                queue = self.getatt_target(eprops.get("Queue"), "Arn")
                if queue not in queues:
                    self.fail(where, "Queue must be !GetAtt <queue of this template>.Arn so its settings can be checked")
                    continue
                consumers.append((where, queue, fn))
        for esm, res in self.of_type("AWS::Lambda::EventSourceMapping").items():
            props = res.get("Properties") or {}
            queue = self.getatt_target(props.get("EventSourceArn"), "Arn")
            if queue not in queues:
                continue  # not an SQS source of this template
            self.check_response_types(esm, props.get("FunctionResponseTypes"))
            fn = self.ref_target(props.get("FunctionName"))
            if fn is None or fn not in self.resources:
                self.fail(esm, "FunctionName must !Ref a function of this template so its Timeout can be checked")
                continue
            consumers.append((esm, queue, fn))
        return consumers

    # --- asynchronous invocations ---------------------------------------------------------

    def function_target(self, value: Any) -> str | None:
        """The function X of `!Ref X` or `!GetAtt X.Arn`, if X is a function of this template."""
        target = self.ref_target(value) or self.getatt_target(value, "Arn")
        functions = self.of_type("AWS::Serverless::Function") | self.of_type("AWS::Lambda::Function")
        return target if target in functions else None

    def on_failure_queues(self) -> dict[str, str]:
        """Function logical id -> queue logical id of its OnFailure destination (checked)."""
        queues = self.of_type("AWS::SQS::Queue")
        destinations: dict[str, str] = {}
        for name, res in self.of_type("AWS::Lambda::EventInvokeConfig").items():
            props = res.get("Properties") or {}
            fn = self.function_target(props.get("FunctionName"))
            if fn is None:
                self.fail(name, "FunctionName must !Ref a function of this template")
                continue
            if self.literal_int(props.get("MaximumRetryAttempts")) is None:
                self.fail(name, "MaximumRetryAttempts must be a literal number (0-2), not Lambda's silent default")
            on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            queue = self.getatt_target(on_failure, "Arn")
            if queue not in queues:
                self.fail(name, "DestinationConfig.OnFailure.Destination must be !GetAtt <queue of this template>.Arn")
                continue
            destinations[fn] = queue
        return destinations

    def check_async_invocations(self, on_failure: dict[str, str]) -> None:
        for name, res in self.of_type("AWS::Lambda::Permission").items():
            props = res.get("Properties") or {}
            principal = props.get("Principal")
            if not isinstance(principal, str) or not principal.endswith(".amazonaws.com"):
                continue
            if principal == "apigateway.amazonaws.com":
                continue  # synchronous: the caller sees the error
            if "SourceAccount" not in props and "SourceArn" not in props:
                self.fail(name, f"a permission for {principal} needs SourceAccount or SourceArn (confused deputy)")
            fn = self.function_target(props.get("FunctionName"))
            if fn is None:
                self.fail(name, "FunctionName must !Ref or !GetAtt a function of this template")
            elif fn not in on_failure:
                self.fail(fn, f"invoked asynchronously by {principal} but has no AWS::Lambda::EventInvokeConfig with an OnFailure queue: failed events would be lost")

    # --- alarms ----------------------------------------------------------------------------

    def alarms_on(self, namespace: str, metric: str, dimension: str) -> dict[str, Any]:
        """The alarms on `metric` with a `dimension`, by the dimension's value, if they notify."""
        found: dict[str, Any] = {}
        for name, res in self.of_type("AWS::CloudWatch::Alarm").items():
            props = res.get("Properties") or {}
            if props.get("Namespace") != namespace or props.get("MetricName") != metric:
                continue
            if not props.get("AlarmActions"):
                self.fail(name, "alarm has no AlarmActions: nobody would hear it")
                continue
            for d in props.get("Dimensions") or []:
                if isinstance(d, dict) and d.get("Name") == dimension:
                    value = d.get("Value")
                    target = self.getatt_target(value, "QueueName") or self.ref_target(value)
                    if target:
                        found[target] = name
        return found

    def check_alarms(self, dead_letter_queues: set[str]) -> None:
        dlq_alarms = self.alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
        for queue in sorted(dead_letter_queues):
            if queue not in dlq_alarms:
                self.fail(queue, "dead-letter queue has no alarm on ApproximateNumberOfMessagesVisible")
        error_alarms = self.alarms_on("AWS/Lambda", "Errors", "FunctionName")
        for fn in self.of_type("AWS::Serverless::Function"):
            if fn not in error_alarms:
                self.fail(fn, "function has no alarm on its Errors metric")

    # --- buckets ---------------------------------------------------------------------------

    def check_buckets(self) -> None:
        for name, res in self.of_type("AWS::S3::Bucket").items():
            props = res.get("Properties") or {}
            block = props.get("PublicAccessBlockConfiguration") or {}
            for setting in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
                if block.get(setting) is not True:
                    self.fail(name, f"PublicAccessBlockConfiguration.{setting} must be true")
            if not (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"):
                self.fail(name, "BucketEncryption.ServerSideEncryptionConfiguration is missing")

    # --- configuration and secrets -------------------------------------------------------

    def role_statements(self, role: str) -> list[dict[str, Any]]:
        """Every statement a role of this template grants: inline and attached managed
        policies of this template, both branches of any Fn::If."""

        def flatten(items: Any) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for item in items if isinstance(items, list) else [items]:
                if isinstance(item, dict) and list(item) == ["Fn::If"] and isinstance(item["Fn::If"], list):
                    out += flatten(item["Fn::If"][1:])
                elif isinstance(item, dict) and "Effect" in item:
                    out.append(item)
            return out

        props = (self.resources.get(role) or {}).get("Properties") or {}
        documents = [p.get("PolicyDocument") or {} for p in props.get("Policies") or [] if isinstance(p, dict)]
        for arn in props.get("ManagedPolicyArns") or []:
            managed = self.ref_target(arn)
            if managed and (self.resources.get(managed) or {}).get("Type") == "AWS::IAM::ManagedPolicy":
                documents.append((self.resources[managed].get("Properties") or {}).get("PolicyDocument") or {})
        return [st for doc in documents for st in flatten(doc.get("Statement") or [])]

    @staticmethod
    def actions(statement: dict[str, Any]) -> list[str]:
        action = statement.get("Action") or []
        return [a for a in (action if isinstance(action, list) else [action]) if isinstance(a, str)]

    def uses_secrets_feature(self, binary: str) -> bool:
        """Whether functions/<binary> turns on omnidesk-aws's "secrets" feature."""
        assert self.workspace is not None
        crate = self.workspace / "functions" / binary / "Cargo.toml"
        if not crate.is_file():
            return False
        dep = tomllib.loads(crate.read_text()).get("dependencies", {}).get("omnidesk-aws", {})
        return isinstance(dep, dict) and "secrets" in (dep.get("features") or [])

    def check_config_and_secrets(self) -> None:
        params = {k: v for k, v in ((self.template_params or {}).items()) if isinstance(v, dict)}
        no_echo = {k for k, v in params.items() if v.get("NoEcho") in (True, "true", "True")}
        global_vars = ((self.globals_fn.get("Environment") or {}).get("Variables")) or {}
        for fn, res in self.of_type("AWS::Serverless::Function").items():
            props = res.get("Properties") or {}
            own = ((props.get("Environment") or {}).get("Variables")) or {}
            variables = {**global_vars, **own}
            for name, value in variables.items():
                if name == "OMNIDESK_CONFIG":
                    self.fail(fn, "OMNIDESK_CONFIG carries the configuration in the environment (4 KB cap, secrets in plain text); use OMNIDESK_CONFIG_BUCKET/KEY")
                if any(word in name.upper() for word in SECRET_LIKE):
                    self.fail(fn, f"environment variable {name} looks like a secret; secrets are sm: references in the configuration")
                if self.ref_target(value) in no_echo:
                    self.fail(fn, f"environment variable {name} carries the NoEcho parameter {self.ref_target(value)}")
            bucket = self.ref_target(variables.get(CONFIG_BUCKET_VAR))
            bucket_props = ((self.resources.get(bucket or "") or {}).get("Properties")) or {}
            if (self.resources.get(bucket or "") or {}).get("Type") != "AWS::S3::Bucket":
                self.fail(fn, f"{CONFIG_BUCKET_VAR} must !Ref an S3 bucket of this template")
            elif (bucket_props.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
                self.fail(bucket, "the configuration bucket must be versioned (rollback, version pins)")
            if CONFIG_KEY_VAR not in variables:
                self.fail(fn, f"{CONFIG_KEY_VAR} is missing")

            role = self.getatt_target(props.get("Role"), "Arn")
            if role is None:
                continue  # SAM's generated role: nothing of ours to check
            statements = self.role_statements(role)
            reads_config = any(
                "s3:GetObject" in self.actions(st) and bucket is not None and bucket in repr(st.get("Resource"))
                for st in statements if st.get("Effect") == "Allow"
            )
            if bucket is not None and not reads_config:
                self.fail(role, f"role of {fn} may not s3:GetObject in {bucket}: the function cannot read its configuration")
            secret_statements = [
                st for st in statements
                if st.get("Effect") == "Allow" and any(a.lower().startswith("secretsmanager:") for a in self.actions(st))
            ]
            binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
            needs = self.workspace is not None and isinstance(binary, str) and self.uses_secrets_feature(binary)
            if secret_statements and not needs:
                self.fail(role, f"role of {fn} may read secrets, but {binary} does not resolve any (no omnidesk-aws \"secrets\" feature)")
            if needs and not secret_statements:
                self.fail(role, f"{binary} resolves secrets, but the role of {fn} may not read any")
            for st in secret_statements:
                resources = st.get("Resource")
                text = repr(resources)
                if resources == "*" or "'*'" in text or "secret:*" in text:
                    self.fail(role, f"secretsmanager on {resources!r}: name the secrets (a prefix), not all of them")

    # --- queues --------------------------------------------------------------------------

    def check_queues(
        self, timeouts: dict[str, int], consumers: list[tuple[str, str, str]], on_failure: dict[str, str]
    ) -> set[str]:
        """Checks every queue; returns the dead-letter queues (redrive targets, OnFailure queues)."""
        queues = self.of_type("AWS::SQS::Queue")
        redrives: dict[str, Any] = {}
        dead_letter_queues: set[str] = set(on_failure.values())
        for name, res in queues.items():
            redrive = (res.get("Properties") or {}).get("RedrivePolicy")
            if isinstance(redrive, dict):
                redrives[name] = redrive
                target = self.getatt_target(redrive.get("deadLetterTargetArn"), "Arn")
                if target is not None:
                    dead_letter_queues.add(target)

        def retention(queue: str) -> int | None:
            value = (queues[queue].get("Properties") or {}).get("MessageRetentionPeriod")
            return SQS_DEFAULT_RETENTION if value is None else self.literal_int(value)

        for name, res in queues.items():
            if name in dead_letter_queues and name not in redrives:
                continue  # a DLQ: the end of the line
            redrive = redrives.get(name)
            if redrive is None:
                self.fail(name, "queue has no RedrivePolicy and is no queue's dead-letter queue (every queue needs a DLQ)")
                continue
            target = self.getatt_target(redrive.get("deadLetterTargetArn"), "Arn")
            if target not in queues:
                self.fail(name, "RedrivePolicy.deadLetterTargetArn must be !GetAtt <queue of this template>.Arn")
            count = self.literal_int(redrive.get("maxReceiveCount"))
            if count is None or count < MIN_MAX_RECEIVE_COUNT:
                self.fail(name, f"RedrivePolicy.maxReceiveCount is {redrive.get('maxReceiveCount')!r}, must be >= {MIN_MAX_RECEIVE_COUNT}")
            if target in queues:
                own, dlq = retention(name), retention(target)
                if own is None or dlq is None or dlq < own:
                    self.fail(name, f"its DLQ {target} keeps messages {dlq!r} s, less than the queue's {own!r} s (a moved message keeps its enqueue time)")

        for where, queue, fn in consumers:
            value = (queues[queue].get("Properties") or {}).get("VisibilityTimeout")
            visibility = SQS_DEFAULT_VISIBILITY_TIMEOUT if value is None else self.literal_int(value)
            timeout = timeouts.get(fn)
            if timeout is None:
                continue  # already reported
            if visibility is None or visibility < VISIBILITY_FACTOR * timeout:
                self.fail(queue, f"VisibilityTimeout is {value!r}, must be >= {VISIBILITY_FACTOR} x {fn} Timeout {timeout} = {VISIBILITY_FACTOR * timeout} (consumed by {where})")
        return dead_letter_queues

    def run(self) -> list[str]:
        if not self.of_type("AWS::Serverless::Function"):
            self.fail("Resources", "no AWS::Serverless::Function found")
        timeouts = self.check_functions()
        consumers = self.sqs_consumers()
        on_failure = self.on_failure_queues()
        dead_letter_queues = self.check_queues(timeouts, consumers, on_failure)
        self.check_async_invocations(on_failure)
        self.check_alarms(dead_letter_queues)
        self.check_buckets()
        self.check_config_and_secrets()
        return self.errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", default="template.yaml")
    parser.add_argument("--workspace", type=Path, help="Cargo workspace root to check Binary names against")
    args = parser.parse_args()

    template, matches = decode(args.template)
    if matches or template is None:
        for m in matches or []:
            print(f"check-template: {args.template}: {m}", file=sys.stderr)
        print(f"check-template: cannot parse {args.template}", file=sys.stderr)
        return 1

    checker = Checker(template, args.workspace)
    errors = checker.run()
    for note in checker.notes:
        print(f"check-template: note: {note}")
    for e in errors:
        print(f"check-template: FAIL {e}", file=sys.stderr)
    if errors:
        print(f"check-template: {len(errors)} violation(s) in {args.template}", file=sys.stderr)
        return 1
    n_fn = len([r for r in template["Resources"].values() if r.get("Type") == "AWS::Serverless::Function"])
    n_q = len([r for r in template["Resources"].values() if r.get("Type") == "AWS::SQS::Queue"])
    print(f"check-template: OK: {n_fn} functions, {n_q} queues in {args.template}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
