"""Schemathesis hooks for scripts/fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

* Credentials: every secured operation gets the seeded tenant's manager key,
  the API-key and webhook routes its admin key, the operator routes the operator token;
  review routes get the operator token or the admin key at random (public
  submissions are the operator's, private ones the tenant admin's). One
  request in twenty carries an unknown key instead, so 401 paths are reached.
* Steering: a generated (positive) install, binding, submission or webhook endpoint body is,
  most of the time, pointed at something that exists (the fake GitHub provider, the seeded
  connector, a valid manifest), so the fuzzer reaches the core logic instead
  of the 404 of a random listing id. The operator routes never write the
  `github` listing those installs use (they get `gitlab` instead).
* Counting: every answer is tallied by operation and status; the tally is
  written to $FUZZ_STATS when the run ends.
* error_envelope: the custom check that every error is API §2's envelope.
"""

import atexit
import copy
import json
import os
import random
import re
import sys
from collections import Counter

import schemathesis

OPERATOR = os.environ["FUZZ_OPERATOR"]
ADMIN = os.environ["FUZZ_ADMIN"]
MANAGER = os.environ["FUZZ_MANAGER"]
FAKE = os.environ["FUZZ_FAKE_BASE"]
FAKE_TOKEN = os.environ["FUZZ_FAKE_TOKEN"]
SEEDED = os.environ["FUZZ_CONNECTOR"]
MANIFEST = json.load(open(os.environ["FUZZ_MANIFEST"]))

STEERED = {"createConnector", "createBinding", "createSubmission", "verifyListing", "createWebhookEndpoint"}
OPERATOR_OPS = {"createTenant", "putListing", "delistListing", "relistListing"}
ADMIN_OPS = {"createApiKey", "listApiKeys", "deleteApiKey", "createWebhookEndpoint", "listWebhookEndpoints",
             "getWebhookEndpoint", "deleteWebhookEndpoint", "testWebhookEndpoint", "listWebhookDeliveries"}
REVIEW_OPS = {"approveSubmission", "rejectSubmission", "listSubmissions", "getSubmission"}
ERROR_TYPES = {
    "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
    "conflict_error", "rate_limit_error", "upstream_error", "api_error",
}
CODE = re.compile(r"^[a-z][a-z0-9_]*$")

rng = random.Random(os.environ.get("FUZZ_SEED"))  # the run's seed: steering replays with it
tally: Counter = Counter()


def op_id(case) -> str:
    return case.operation.definition.raw.get("operationId", case.operation.label)


@atexit.register
def _write_stats() -> None:
    path = os.environ.get("FUZZ_STATS")
    if path:
        with open(path, "w") as f:
            json.dump([[k[0], k[1], n] for k, n in tally.items()], f)


@schemathesis.hook
def before_call(context, case, kwargs):
    op = op_id(case)
    if not case.operation.definition.raw.get("security", [{}]):
        return  # public: no credentials
    if op in OPERATOR_OPS:
        token = OPERATOR
    elif op in ADMIN_OPS:
        token = ADMIN
    elif op in REVIEW_OPS:
        token = rng.choice([OPERATOR, ADMIN])
    else:
        token = MANAGER
    if rng.random() < 0.05:
        token = "mk_0000000000000000000A_" + "0" * 40
    # Positive cases of every phase (the coverage phase bypasses map_body
    # hooks), so negative ones stay as invalid as generated.
    meta = getattr(case, "_meta", None)
    if op in STEERED and meta is not None and str(meta.generation.mode.value) == "positive":
        case.body = _steer(op, case.body)
        if op == "verifyListing" and "token" in json.dumps(case.body, default=str):
            case.path_parameters = {**(case.path_parameters or {}), "listing": "github"}
        # Generated keys repeat ("0", the example): mostly a fresh one, so
        # installs are not all replays or 422 idempotency_key_reused.
        if rng.random() < 0.7 and any(k.lower() == "idempotency-key" for k in (case.headers or {})):
            case.headers = {k: v for k, v in case.headers.items() if k.lower() != "idempotency-key"}
            case.headers["Idempotency-Key"] = f"fz-{rng.randrange(10**12)}"
    # The operator routes may re-publish or de-list any listing: keep them off
    # the one the steered installs use.
    if op in OPERATOR_OPS and (case.path_parameters or {}).get("listing") == "github":
        case.path_parameters = {**case.path_parameters, "listing": "gitlab"}
    headers = dict(case.headers or {})
    headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    headers["Authorization"] = f"Bearer {token}"
    case.headers = headers


def upstream_502(case, response) -> bool:
    """A documented `502 connector_upstream_error` (a provider that cannot be reached)."""
    if response.status_code != 502 or "502" not in case.operation.definition.raw.get("responses", {}):
        return False
    try:
        return json.loads(response.content)["error"]["code"] == "connector_upstream_error"
    except (ValueError, KeyError, TypeError):
        return False


@schemathesis.hook
def after_call(context, case, response):
    status = response.status_code
    if status >= 500 and upstream_502(case, response):
        status = "502 upstream"  # counted apart: documented, not a server error
    tally[(op_id(case), status)] += 1
    if os.environ.get("FUZZ_DEBUG") == op_id(case):  # FUZZ_DEBUG=<operationId>: its answers
        body = json.dumps(case.body, default=str)[:300]
        print(f"[fuzz] {op_id(case)} {status} {body} -> {response.content[:300]!r}", file=sys.stderr)


def _steer(op: str, body):
    if op == "createWebhookEndpoint" and isinstance(body, dict):
        # Always: the fake provider stands in for a receiver (it answers
        # 401), so no generated public host is sent deliveries by the run.
        return {**body, "url": f"{FAKE}/hooks/{rng.randrange(10**6)}"}
    if not isinstance(body, dict) or rng.random() < 0.3:
        return body
    body = dict(body)
    if op == "createConnector":
        body["listing"] = "github"
        token = FAKE_TOKEN if rng.random() < 0.7 else "ghp_refused"
        body["auth"] = {"type": "pat", "token": token}
        body["config"] = {"base_url": FAKE}
        if rng.random() < 0.7:  # generated names repeat: mostly a fresh one
            body["name"] = f"fz-{rng.randrange(10**9)}"
    elif op == "verifyListing":
        token = FAKE_TOKEN if rng.random() < 0.7 else "ghp_refused"
        body = {"auth": {"type": "pat", "token": token}, "config": {"base_url": FAKE}}
    elif op == "createBinding":
        if rng.random() < 0.5:
            body["connector_id"] = SEEDED
        body["capability"] = rng.choice(["repo.read", "issue.read", "user.read", "story.read"])
    elif op == "createSubmission":
        m = copy.deepcopy(MANIFEST)
        m["id"] = "fz-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
        m["version"] = f"1.{rng.randrange(100)}.{rng.randrange(100)}"
        body["manifest"] = m
    return body




@schemathesis.check
def error_envelope(ctx, response, case):
    """Every 4xx/5xx is {"error":{"type","code","message","request_id",...}} (API §2)."""
    if response.status_code < 400 or case.method.upper() == "HEAD":
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} answer is not JSON") from None
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict) or set(body) != {"error"}:
        raise AssertionError(f"{response.status_code} answer is not {{\"error\":{{…}}}}")
    for field in ("type", "code", "message", "request_id"):
        if not isinstance(err.get(field), str) or not err[field]:
            raise AssertionError(f"error.{field} is missing or not a non-empty string")
    if err["type"] not in ERROR_TYPES:
        raise AssertionError(f"error.type {err['type']!r} is not one of API §2's")
    if not CODE.match(err["code"]):
        raise AssertionError(f"error.code {err['code']!r} is not snake_case")
    rid = response.headers.get("request-id") or response.headers.get("Request-Id")
    rid = rid[0] if isinstance(rid, list) else rid
    # A replay's body is the first answer's, naming the first request (Error.request_id).
    replayed = response.headers.get("idempotent-replayed") or response.headers.get("Idempotent-Replayed")
    replayed = replayed[0] if isinstance(replayed, list) else replayed
    if err["request_id"] != rid and replayed != "true":
        raise AssertionError(f"error.request_id {err['request_id']!r} differs from Request-Id {rid!r}")
    if "param" in err and not isinstance(err["param"], str):
        raise AssertionError("error.param is not a string")
    return None
