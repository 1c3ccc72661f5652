"""`jubilee demo`: a sample campaign from first donation to letters, on the local emulator."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from functions.adapters import public_log
from functions.adapters.payments import SandboxPayments
from functions.adapters.secrets import derived_key
from functions.domain.ledger import identity_holds
from functions.domain.public_log import compare, verify
from infra import site
from local.emulator import LocalCloud
from local.sample_data import DEMO_CAMPAIGN, seed_campaign


class DemoFailed(AssertionError):
    pass


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailed(what)


def _webhook(cloud: LocalCloud, signed: tuple[dict[str, str], bytes]) -> str:
    headers, payload = signed
    response = cloud.http("POST", "/webhooks/sandbox", payload, headers)
    _check(response.status == 200, f"webhook refused: {response.body}")
    return response.json()["status"]


def _money_out(cloud: LocalCloud, provider: SandboxPayments, pledges: list[dict[str, Any]]) -> dict[str, str]:
    """What happens to real campaigns after the money came in: each step's webhook outcome."""
    monthly, refunded, won, lost = pledges[3], pledges[4], pledges[5], pledges[6]
    return {
        "monthly_gift_month_2": _webhook(cloud, provider.installment_paid(monthly, 2)),
        "partial_refund": _webhook(cloud, provider.refunded(refunded, refunded["amount_cents"] // 2)),
        "dispute_filed": _webhook(cloud, provider.dispute(won, "dp_demo_won", "open")),
        "dispute_won": _webhook(cloud, provider.dispute(won, "dp_demo_won", "won")),
        "dispute_filed_again": _webhook(cloud, provider.dispute(lost, "dp_demo_lost", "open")),
        "dispute_lost": _webhook(cloud, provider.dispute(lost, "dp_demo_lost", "lost")),
    }


REPORTED = ("donations_confirmed", "raised_cents", "fees_cents", "refunded_cents", "disputes_lost_cents",
            "reserve_cents", "pool_available_cents", "frozen_cents", "held_cents", "spent_cents", "expenses_cents",
            "shortfall_cents", "purchases", "face_value_forgiven_cents", "accounts_forgiven", "letters_sent",
            "letters_waiting")


def run(donations: int = 60, seed: int = 1, report_path: Path | None = None,
        inspect: Callable[[LocalCloud], None] | None = None) -> dict[str, Any]:
    """The demo campaign end to end; with report_path, also its dashboard as one self-contained HTML file.
    `inspect` is called with the emulated deployment before it is torn down (tests read what was stored)."""
    if donations < 7:
        raise ValueError("--donations: the demo needs at least 7 to play its refund, disputes and monthly gift")
    rng = random.Random(seed)
    # A secret from the seed: the same seed gives the same account hashes, letters and log head.
    with LocalCloud(public_base_url="http://127.0.0.1:3000", app_secret=f"demo-secret-{seed}") as cloud:
        seed_campaign(cloud, seed=seed)
        cid = DEMO_CAMPAIGN.campaign_id
        provider = SandboxPayments(derived_key("sandbox-webhook"), cloud.public_base_url)
        replays: dict[str, int] = {"donation_request": 0, "webhook": 0, "failed_once": 0}
        pledges = []
        for n in range(donations):
            body = {"amount_cents": rng.choice((500, 1_000, 2_500, 5_000, 10_000, 25_000)) + rng.randrange(0, 100),
                    "currency": "USD", "anonymous": rng.random() < 0.3,
                    "frequency": "monthly" if n == 3 else "once",
                    "donor": {"name": f"Donor {n}", "email": f"donor{n}@example.org"}}
            headers = {"Idempotency-Key": f"demo-{seed}-{n}"}
            first = cloud.http("POST", f"/campaigns/{cid}/donations", body, headers)
            _check(first.status == 201, f"donation {n} refused: {first.body}")
            donation = first.json()
            pledges.append({"campaign_id": cid, "amount_cents": body["amount_cents"], "currency": "USD", **donation})
            if n == 0:  # a donor's browser retries: same key, same body, same answer, one donation
                again = cloud.http("POST", f"/campaigns/{cid}/donations", body, headers)
                _check(again.json() == donation, "a repeated request did not replay the first answer")
                replays["donation_request"] += 1
            if n == 1:  # the provider delivers the same signed webhook twice
                signed = provider.payment_completed(pledges[-1])
                outcomes = [_webhook(cloud, signed) for _ in range(2)]
                _check(outcomes == ["confirmed", "duplicate"], f"webhook replay went wrong: {outcomes}")
                replays["webhook"] += 1
            else:  # the donor pays on the sandbox checkout page
                paid = cloud.http("POST", donation["checkout_url"].removeprefix(cloud.public_base_url))
                _check(paid.status == 200, f"checkout {n} failed: {paid.body}")
            if n == 2:  # the pool's next batch crashes once; SQS redelivers it
                cloud.fail_next("pool")
                replays["failed_once"] += 1
            if n % 10 == 9:
                cloud.drain()
        cloud.drain()
        money_out = _money_out(cloud, provider, pledges)
        cloud.drain()
        reconciliation = cloud.run_schedule("reconcile")
        cloud.run_schedule("sweep")  # as hourly: asks for the purchase check no booked gift asked for
        cloud.drain()
        figures = cloud.http("GET", f"/campaigns/{cid}").json()
        log = public_log.entries(cid)
        checked = verify(log)
        _check(checked.ok and not compare(checked, figures), f"the public log does not verify: {checked.problems}")
        _check(identity_holds(figures), "raised + shortfall is not fees + refunded + disputes lost + reserve + pool + "
                                        "frozen + held + spent + expenses")
        report = {key: figures[key] for key in REPORTED}
        report["ledger_balanced"] = figures["ledger_balanced"] and reconciliation["drifted_accounts"] == 0
        report["log_head"], report["log_entries"] = figures["log_head"], figures["log_entries"]
        purchased = [r for r in log if r["type"] == "purchase"]
        report["purchased_face_value_cents"] = sum(r["face_value_cents"] for r in purchased)
        report["purchased_accounts"] = sum(r["accounts"] for r in purchased)
        report["dead_letters"] = sum(cloud.dlq_depths().values())
        report["replays"] = replays
        report["money_out"] = money_out
        report["invocations"] = dict(cloud.invocations)
        if report_path is not None:
            records = cloud.http("GET", f"/campaigns/{cid}/purchases").json()["purchases"]
            report_path.parent.mkdir(parents=True, exist_ok=True)
            report_path.write_text(site.demo_report(figures, records, log), encoding="utf-8")
            report["report"] = str(report_path)
        if inspect is not None:
            inspect(cloud)
        return report
