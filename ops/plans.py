"""`jubilee plans`: purchase plans seen, approved and rejected through the admin API (functions/handlers/admin.py).

There is one approval path: the admin API's. On a stack the CLI signs its requests with the operator's
AWS credentials (SigV4, as API Gateway's IAM authorization wants), so the approver recorded is the
caller's IAM identity. On `jubilee serve` it sends the local admin token serve printed, which the
emulator (and only the emulator) takes for the IAM user `local-operator`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from functions.domain.purchase import campaign_of


class PlansError(ValueError):
    """A clear reason a plans command did nothing (names the argument, or says what the API answered)."""


class AdminApi:
    """The admin routes of one deployment: `base` is its API's URL (the stack's ApiUrl, or serve's)."""

    def __init__(self, base: str, token: str | None = None):
        self.base, self.token = base.rstrip("/"), token

    @classmethod
    def of(cls, stack: str, endpoint: str | None, token: str | None) -> AdminApi:
        if endpoint:
            if not token:
                raise PlansError("--token: give the admin token `jubilee serve` printed (or JUBILEE_ADMIN_TOKEN)")
            return cls(endpoint, token)
        if token:
            raise PlansError("--token: only with --endpoint (a stack takes your AWS credentials, never a token)")
        from ops.operations import stack_outputs

        url = stack_outputs(stack).get("ApiUrl")
        if not url:
            raise PlansError(f"--stack: stack {stack!r} has no ApiUrl output: is it a Jubilee stack?")
        return cls(url)

    def call(self, method: str, path: str) -> dict[str, Any]:
        url = f"{self.base}{path}"
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            headers = _signed(method, url, headers)
        request = urllib.request.Request(url, method=method, headers=headers, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise PlansError(f"the admin API answered {error.code}: {_said(error.read())}") from None
        except (urllib.error.URLError, OSError) as error:
            raise PlansError(f"cannot reach the admin API at {self.base}: {getattr(error, 'reason', error)}") from None

    def plans(self, campaign_id: str) -> dict[str, Any]:
        return self.call("GET", f"/admin/campaigns/{quote(campaign_id, safe='')}/plans")

    def plan(self, plan_id: str) -> dict[str, Any]:
        """One plan as the list shows it, with the planner's last reasoning for its campaign."""
        listed = self.plans(campaign_of(plan_id))
        found = [p for p in listed["plans"] if p["plan_id"] == plan_id]
        if not found:
            raise PlansError(f"PLAN: no plan {plan_id!r}")
        return found[0] | {"last_planning": listed.get("last_planning")}

    def decide(self, plan_id: str, decision: str) -> dict[str, Any]:
        return self.call("POST", f"/admin/plans/{quote(plan_id, safe='')}/{decision}")


def _signed(method: str, url: str, headers: dict[str, str]) -> dict[str, str]:
    """The headers of a request signed with the operator's AWS credentials for API Gateway (execute-api)."""
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise PlansError("no AWS credentials: the admin API takes signed requests (or use --endpoint and --token "
                         "with jubilee serve)")
    request = AWSRequest(method=method, url=url, data=b"" if method == "POST" else None, headers=headers)
    SigV4Auth(credentials, "execute-api", session.region_name or "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _said(body: bytes) -> str:
    """The API's own words (its `message`), never more than a line."""
    try:
        payload = json.loads(body)
        return str(payload.get("message") or payload)[:300] if isinstance(payload, dict) else str(payload)[:300]
    except ValueError:
        return body[:300].decode(errors="replace")
