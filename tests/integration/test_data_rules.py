"""Data rules: the public log verifies from outside, an export imports into a fresh deployment
unchanged, erased donors stay erased, and no personal data reaches a log line."""

import contextlib
import importlib
import json
import re
import threading
from http.server import ThreadingHTTPServer

import pytest

from functions.adapters import donors, forgiveness, keys
from functions.adapters.aws import client, settings
from functions.domain.campaigns import Campaign
from infra import topology
from local.emulator import LocalCloud
from local.sample_data import offer_csv
from local.server import _handler_class
from ops import cli, operations, portability
from tests.conftest import CAMPAIGN
from tests.support import figures, give, giving360_problems, items, pay, public

DONORS = [("Ada Lovelace", "ada@example.org", False), ("Grace Hopper", "grace@example.org", True),
          ("Alan Turing", "alan@example.org", False)]


def campaign_with_history(cloud, accounts=12):
    """Named and anonymous donors, a purchase, its forgiveness and letters."""
    operations.add_offer("c1", offer_csv(accounts, 4), "sandbox", 1_500, offer_id="o1")
    for n, (name, email, anonymous) in enumerate(DONORS):
        answer = cloud.http("POST", "/campaigns/c1/donations",
                            {"amount_cents": 2_000 + n, "currency": "USD", "anonymous": anonymous,
                             "donor": {"name": name, "email": email}}, {"Idempotency-Key": f"named-{n}"}).json()
        pay(cloud, answer)
    cloud.drain()
    assert figures(cloud)["accounts_forgiven"] == accounts


def exported(out, **options):
    """A deployment with history, exported to `out` and shut down (moto keeps one state per process,
    so the fresh deployment that imports starts only after it): its figures and balances."""
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="source-secret") as source:
        operations.create_campaign(CAMPAIGN)
        campaign_with_history(source)
        # Settings changed: a public one (logged) and the team's own; both recorded, and exported.
        operations.update_campaign("c1", {"threshold_cents": 2_000, "contact": "desk@test.example"})
        portability.export_campaign("c1", out, **options)
        return figures(source), {i["sk"]: i["balance"] for i in items("account")}


def said(capsys):
    """What a command printed, with rich's line wrapping undone."""
    captured = capsys.readouterr()
    return type(captured)(" ".join(captured.out.split()), " ".join(captured.err.split()))


@contextlib.contextmanager
def served(cloud):
    """The cloud's API on a real local port, as `jubilee serve` offers it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(cloud))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_the_log_verifies_from_the_public_api_alone(cloud, capsys):
    campaign_with_history(cloud)
    with served(cloud) as base:
        assert cli.main(["verify-log", f"{base}/campaigns/c1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])  # (the functions log to stdout too, as in Lambda)
    published = figures(cloud)
    assert result["ok"] and result["head"] == published["log_head"] != "0" * 64
    assert result["totals"]["accounts_forgiven"] == published["accounts_forgiven"] == 12
    assert result["totals"]["spent_cents"] == published["spent_cents"] == 1_500
    assert result["entries"] == published["log_entries"] == 2  # the purchase, one chunk


def test_the_log_pages_and_an_unknown_campaign_is_a_404(cloud):
    operations.add_offer("c1", offer_csv(3, 1), "sandbox", 500, offer_id="a")
    operations.add_offer("c1", offer_csv(3, 2), "sandbox", 500, offer_id="b")
    give(cloud, [2_000])
    cloud.drain()
    assert figures(cloud)["log_entries"] == 4  # two purchases, a chunk each
    first = cloud.http("GET", "/campaigns/c1/log", query={"limit": "1"}).json()
    assert len(first["entries"]) == 1 and first["next"] == "/campaigns/c1/log?after=1&limit=1"
    rest = cloud.http("GET", "/campaigns/c1/log", query={"after": "1"}).json()
    assert [e["seq"] for e in rest["entries"]] == list(range(2, figures(cloud)["log_entries"] + 1))
    assert rest["next"] is None and rest["entries"][0]["prev"] == first["entries"][0]["hash"]
    assert cloud.http("GET", "/campaigns/nope/log").status == 404
    bad = cloud.http("GET", "/campaigns/c1/log", query={"limit": "0"})
    assert bad.status == 422 and "limit" in bad.body


def test_export_then_import_into_a_fresh_deployment_gives_the_same_books(tmp_path, capsys):
    out = tmp_path / "export"
    source_figures, source_balances = exported(out)
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["files"]:  # every checksum verifies
        assert portability._sha256(out / entry["path"]) == entry["sha256"]
    assert {e["path"] for e in manifest["files"]} >= {"ledger_entries.jsonl", "ledger_entries.csv",
                                                      "donations.csv", "public_log.jsonl", "grants-360giving.json",
                                                      "purchases.csv", "plans.jsonl", "forgiveness_events.csv"}
    [purchase] = portability.read_jsonl(out, "purchases")
    assert (purchase["price_cents"], purchase["accounts"]) == (1_500, 12) and "by_state" in purchase
    with LocalCloud(public_base_url="http://elsewhere.test", app_secret="another-secret") as fresh:
        first = portability.import_campaign(out, "c1")
        assert first["ledger_entries"] > 0 and first["public_log"] == source_figures["log_entries"] + 1  # + head
        assert first["campaign_changes"] == 2 and len(operations.show_campaign("c1")["changes"]) == 2
        assert sum(portability.import_campaign(out, "c1").values()) == 0  # importing twice changes nothing
        assert figures(fresh) == source_figures
        assert {i["sk"]: i["balance"] for i in items("account")} == source_balances
        reconciled = fresh.run_schedule("reconcile")  # the import registered the campaign
        assert (reconciled["campaigns"], reconciled["drifted_accounts"]) == (1, 0)
        assert cli.main(["verify-log", str(out)]) == 0
        assert "verified" in capsys.readouterr().out


def test_an_amount_changed_in_an_exported_log_fails_verification_and_names_the_entry(cloud, tmp_path, capsys):
    campaign_with_history(cloud)
    out = tmp_path / "export"
    portability.export_campaign("c1", out)
    log_file = out / "public_log.jsonl"
    lines = log_file.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["face_value_cents"] += 100
    lines[1] = json.dumps(entry, sort_keys=True)
    log_file.write_text("\n".join(lines) + "\n")
    assert cli.main(["verify-log", str(out)]) == 1
    shown = capsys.readouterr().out
    assert "entry 2 (seq 2): its content does not match its hash (altered)" in shown
    assert "public_log.jsonl does not match its SHA-256" in shown


def test_the_360giving_package_passes_the_standards_schema_and_awards_the_money_spent(cloud, tmp_path):
    campaign_with_history(cloud)
    portability.export_campaign("c1", tmp_path, grant_id_prefix="360G-testfund")
    text = (tmp_path / "grants-360giving.json").read_text()
    package = json.loads(text)
    assert giving360_problems(package) == []
    published = figures(cloud)
    grants = package["grants"]
    printed = re.findall(r'"amountAwarded": (-?\d+)\.(\d\d),', text)  # two decimals, as written
    assert len(printed) == len(grants) and sum(int(d) * 100 + int(c) for d, c in printed) == published["spent_cents"]
    face = re.findall(r'"faceValueForgiven": (\d+)\.(\d\d),', text)
    assert sum(int(d) * 100 + int(c) for d, c in face) == published["face_value_forgiven_cents"]
    assert all(g["id"].startswith("360G-testfund-") and g["beneficiaryLocation"][0]["geoCode"] == "US-" +
               g["beneficiaryLocation"][0]["name"] for g in grants)
    assert package["publisher"]["name"] == "Test Campaign" and package["license"].startswith("https://")
    rows = (tmp_path / "grants-360giving.csv").read_text().splitlines()
    assert rows[0].startswith("Identifier,Title,Description,Currency,Amount Awarded,Award Date,") and \
        len(rows) == len(grants) + 1
    assert {"grants-360giving.json", "grants-360giving.csv"} <= {
        f["path"] for f in json.loads((tmp_path / "manifest.json").read_text())["files"]}


def test_an_export_with_nothing_forgiven_writes_no_360giving_package_and_says_why(cloud, tmp_path, capsys):
    give(cloud, [500])  # under the threshold: nothing bought
    cloud.drain()
    portability.export_campaign("c1", tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert not list(tmp_path.glob("grants-360giving.*")) and "at least one grant" in manifest["not_360giving"]
    with pytest.raises(SystemExit) as refused:  # refused before anything is read or written
        cli.main(["export", "--campaign", "c1", "--out", str(tmp_path / "bad"), "--grant-id-prefix", "XI-ME"])
    assert refused.value.code == 2 and not (tmp_path / "bad").exists()
    assert "--grant-id-prefix: must start with 360G-" in said(capsys).err


def test_donors_appear_in_an_export_only_with_include_personal_data(cloud, tmp_path):
    campaign_with_history(cloud)
    plain, personal = tmp_path / "plain", tmp_path / "personal"
    portability.export_campaign("c1", plain)
    portability.export_campaign("c1", personal, include_personal_data=True)
    everything = b"".join(p.read_bytes() for p in plain.iterdir())
    for name, email, _ in DONORS:
        assert name.encode() not in everything and email.encode() not in everything
    rows = portability.read_jsonl(personal, "donations")
    assert sorted(r["donor"]["email"] for r in rows) == sorted(email for _, email, _ in DONORS)
    assert {r["donor"]["name"]: r["anonymous"] for r in rows}["Grace Hopper"] is True


def test_a_personal_export_imports_with_donors_sealed_under_the_new_deployments_keys(tmp_path):
    exported(tmp_path, include_personal_data=True)
    with LocalCloud(app_secret="another-secret"):
        portability.import_campaign(tmp_path, "c1")
        stored = items("donation")
        assert all("donor" not in d and d["donor_sealed"] for d in stored)
        assert sorted(donors.opened(d)["name"] for d in stored) == sorted(name for name, _, _ in DONORS)
        assert "Ada Lovelace" not in json.dumps([public(d) for d in stored], default=str)


def test_an_import_refuses_a_tampered_file_or_another_campaign_id(tmp_path):
    exported(tmp_path)
    with LocalCloud():
        with pytest.raises(portability.PortabilityError, match="the export is of campaign 'c1'"):
            portability.import_campaign(tmp_path, "c2")
        (tmp_path / "balances.csv").write_text("tampered\n")
        with pytest.raises(portability.PortabilityError, match="balances.csv does not match its SHA-256"):
            portability.import_campaign(tmp_path, "c1")
        assert items() == []  # nothing half-written


def test_an_erased_donor_can_no_longer_be_read_and_the_books_are_unchanged(served_cloud, capsys):
    cloud, endpoint = served_cloud
    campaign_with_history(cloud)
    before = figures(cloud)
    [ada] = [d for d in items("donation") if donors.opened(d)["email"] == "ada@example.org"]
    assert cli.main(["erase-donor", "--campaign", "c1", "--email", "ADA@example.org", "--endpoint-url", endpoint]) == 0
    assert "erased: 1 donation(s)" in capsys.readouterr().out
    # Nothing left in the table opens or ties to them: not the sealed data, not the gift's wrapped key, nowhere.
    table = json.dumps([public(i) for i in items()], default=str)
    assert all(public(ada)[k] not in table for k in ("donor_sealed", "donor_key"))  # (wrapped_by: shared)
    assert all(not i["sk"].startswith("DONORKEY#") for i in items())
    stored = json.dumps([public(i) for i in items()], default=str)
    assert "ada@example.org" not in stored and "Ada Lovelace" not in stored and ada["donor_ref"] not in stored
    assert figures(cloud) == before
    [erased] = [d for d in items("donation") if d["donation_id"] == ada["donation_id"]]
    assert erased["donor_erased"] is True and erased["amount_cents"] == ada["amount_cents"]
    others = [donors.opened(d) for d in items("donation") if d["donation_id"] != ada["donation_id"]]
    assert sorted(o["name"] for o in others) == ["Alan Turing", "Grace Hopper"]
    assert donors.erase("c1", "ada@example.org") == 0  # nothing of theirs is left to erase


def test_the_debtors_key_expires_a_set_number_of_days_after_their_letters(cloud):
    campaign_with_history(cloud)
    [plan] = items("plan")
    key = forgiveness.debtor_key("c1", plan["plan_id"])
    letters = items("letters")
    days = CAMPAIGN.debtor_data_days
    assert key["expires_at"] - max(int(_epoch(i["sent_at"])) for i in letters) in range(days * 86_400,
                                                                                          days * 86_400 + 5)
    # When DynamoDB's TTL deletes the item, every sealed blob of the portfolio is unreadable.
    client("dynamodb").delete_item(TableName=settings().table, Key={"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}})
    from functions.adapters.ledger import load_campaign
    from functions.adapters.letters_out import print_batch
    from functions.handlers.letters import send

    with pytest.raises(LookupError, match="shredded"):
        print_batch(load_campaign("c1"), plan["plan_id"], "again",
                    forgiveness.events_of_chunk("c1", plan["plan_id"], 0))
    send({"campaign_id": "c1", "plan_id": plan["plan_id"], "chunk": 0})  # mailed already: nothing to open


def _epoch(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).timestamp()


def test_after_a_demo_no_personal_data_is_in_any_log_line_table_item_or_object(monkeypatch, capsys, caplog):
    from local import demo
    from local.sample_data import SAMPLE_OFFERS

    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    caplog.set_level("DEBUG")
    # A handler module imported earlier in this process (e.g. by an in-process `jubilee demo`, which
    # quiets them) keeps the level its logger was made with: every one logs everything here.
    loggers = [importlib.import_module(fn.handler.rsplit(".", 1)[0]).logger for fn in topology.FUNCTIONS]
    levels = [logger.log_level for logger in loggers]
    for logger in loggers:
        logger.setLevel("DEBUG")
    stored = {}

    def read_everything(_cloud):  # what the deployment holds: every item (but ciphertext) and every object
        s3 = client("s3")
        stored["table"] = json.dumps([public(i) for i in items()], default=str)
        # Every item the run wrote is of a family the key schema lists (so the export took it, or says why not).
        stored["unlisted"] = sorted({(i["pk"].split("#")[0], i.get("kind")) for i in items()
                                     if keys.family_of(i, "demo") is None})
        stored["objects"] = [s3.get_object(Bucket=b, Key=o["Key"])["Body"].read()
                             for b in (settings().offers_bucket, settings().letters_bucket)
                             for o in s3.list_objects_v2(Bucket=b).get("Contents", [])]

    try:
        demo.run(donations=12, seed=3, inspect=read_everything)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    captured = capsys.readouterr()
    lines = captured.out + captured.err + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "donation pledged" in lines and "chunk forgiven" in lines  # the functions did log
    personal = [f"Donor {n}" for n in range(12)] + [f"donor{n}@example.org" for n in range(12)]
    for n, sample in enumerate(SAMPLE_OFFERS):
        from functions.domain.offers import read_accounts

        body = offer_csv(sample.accounts, 3 * 100 + n, prefix=sample.offer_id.upper())
        for account in read_accounts(body.decode().splitlines(keepends=True)):
            personal += [account.debtor_name, account.address_line, account.account_ref]
    assert [text for text in personal if text in lines] == []
    assert [text for text in personal if text in stored["table"]] == []
    assert stored["unlisted"] == []
    # Offers not bought keep their file (the debtors' data in the seller's own words); every other
    # object is a sealed letter batch, in which nothing reads in the clear.
    sealed = [o for o in stored["objects"] if not o.startswith(b"account_ref,")]
    assert sealed and [text for text in personal for o in sealed if text.encode() in o] == []
    assert len(personal) > 100


def test_export_and_import_commands_on_a_local_deployment(served_cloud, tmp_path, capsys):
    cloud, endpoint = served_cloud
    campaign_with_history(cloud)
    out = tmp_path / "out"
    assert cli.main(["export", "--campaign", "c1", "--out", str(out), "--endpoint-url", endpoint]) == 0
    assert "manifest.json lists every file's checksum" in said(capsys).out
    assert cli.main(["export", "--campaign", "nope", "--out", str(out), "--endpoint-url", endpoint]) == 2
    assert "--campaign: no campaign 'nope' here" in said(capsys).err
    assert cli.main(["import", str(out), "--campaign", "c1", "--endpoint-url", endpoint]) == 0
    assert "imported 0 new record(s)" in said(capsys).out  # all there already: nothing changes
    assert cli.main(["import", str(tmp_path / "missing"), "--campaign", "c1", "--endpoint-url", endpoint]) == 2
    assert "has no readable manifest.json" in said(capsys).err


def test_an_append_that_lost_the_race_for_the_head_chains_onto_the_new_one(cloud, monkeypatch):
    from functions.adapters import dynamo
    from functions.adapters import public_log as log_store
    from functions.domain.public_log import forgiveness_body, purchase_body, verify

    assert log_store.transact_logged("c1", [], purchase_body("c1", "p", "S", 10, 1_000, 5, "2026-01-01T00:00:00+00:00"))
    real_head, reads = log_store.head, []

    def stale_then_real(campaign_id):  # the first read is from before the other writer's append
        reads.append(campaign_id)
        return {"seq": 0, "hash": "0" * 64} if len(reads) == 1 else real_head(campaign_id)

    monkeypatch.setattr(log_store, "head", stale_then_real)
    marker = dynamo.put({"pk": "TEST#marker", "sk": "x", "kind": "marker"})
    body = forgiveness_body("c1", "p", 0, 2, 200, "2026-01-01T00:00:00+00:00")
    assert log_store.transact_logged("c1", [marker], body)
    assert len(reads) == 2  # it lost once, read the new head and won
    entries = log_store.entries("c1")
    assert [e["seq"] for e in entries] == [1, 2] and verify(entries).ok
    assert len(items("marker")) == 1  # its own writes happened once
    # And when its own condition fails (the change happened already), nothing is appended.
    assert not log_store.transact_logged("c1", [marker], forgiveness_body("c1", "p", 2, 1, 1, "t"))
    assert len(log_store.entries("c1")) == 2



APPROVER = "arn:aws:iam::123456789012:user/alice"


def exported_with_open_offers(out, **options):
    """A campaign that needs an approval to buy, exported while a plan holds funds for offer `held`
    and offer `dear` (too dear for the pool) waits: its figures, and the held plan."""
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="source-secret") as source:
        operations.create_campaign(Campaign("c1", "Open Offers", threshold_cents=1_000, approvers=(APPROVER,),
                                            approvals_required=1))
        operations.add_offer("c1", offer_csv(4, 1), "sandbox", 1_500, offer_id="held")
        operations.add_offer("c1", offer_csv(3, 2), "sandbox", 900_000, offer_id="dear")
        give(source, [2_000, 2_000])
        source.drain()
        [plan] = items("plan")
        assert plan["status"] == "proposed" and figures(source)["held_cents"] == 1_500
        portability.export_campaign("c1", out, **options)
        return figures(source), plan


def test_open_offers_exported_without_their_files_are_withdrawn_on_import_and_their_hold_released(tmp_path):
    source, plan = exported_with_open_offers(tmp_path)
    assert not (tmp_path / portability.OFFER_FILES).exists()  # debtors' data leaves only when asked for
    with LocalCloud(app_secret="another-secret") as fresh:
        warned = []
        portability.import_campaign(tmp_path, "c1", warn=warned.append)
        assert sorted(w.split(":")[0] for w in warned) == ["offer dear withdrawn", "offer held withdrawn",
                                                           f"plan {plan['plan_id']} voided"]
        assert any("$15.00 it held are back in the pool" in w for w in warned)
        landed = figures(fresh)
        assert (landed["held_cents"], landed["pool_available_cents"]) == (0, source["pool_available_cents"] + 1_500)
        assert {k: v for k, v in landed.items() if k not in ("held_cents", "pool_available_cents")} == \
            {k: v for k, v in source.items() if k not in ("held_cents", "pool_available_cents")}
        assert {o["offer_id"]: o["status"] for o in items("offer")} == {"held": "withdrawn", "dear": "withdrawn"}
        [voided] = items("plan")
        assert voided["status"] == "voided" and "imported without its file" in voided["void_reason"]
        assert fresh.run_schedule("reconcile")["drifted_accounts"] == 0
        before = items()
        assert sum(portability.import_campaign(tmp_path, "c1").values()) == 0  # the same export lands the same way
        assert items() == before
        # Nothing is left that a purchase would fail on: more gifts buy nothing, nothing is held or dead.
        give(fresh, [2_000], prefix="after")
        fresh.drain()
        assert figures(fresh)["held_cents"] == 0 and sum(fresh.dlq_depths().values()) == 0
        with pytest.raises(portability.PortabilityError, match="campaign: 1 different"):  # it has moved on since
            portability.import_campaign(tmp_path, "c1")


def test_open_offers_travel_with_include_personal_data_and_are_bought_where_imported(tmp_path):
    source, plan = exported_with_open_offers(tmp_path, include_personal_data=True)
    with LocalCloud(app_secret="another-secret", admin_tokens={"alice-token": "alice"}) as fresh:
        warned = []
        portability.import_campaign(tmp_path, "c1", warn=warned.append)
        assert warned == [] and figures(fresh) == source
        approved = fresh.http("POST", f"/admin/plans/{plan['plan_id']}/approve",
                              headers={"Authorization": "Bearer alice-token"})
        assert approved.status == 200, approved.body
        fresh.drain()
        bought = figures(fresh)
        assert (bought["held_cents"], bought["spent_cents"], bought["accounts_forgiven"]) == (0, 1_500, 4)
        assert sum(fresh.dlq_depths().values()) == 0


def test_an_import_into_a_deployment_holding_the_campaign_with_other_data_refuses_and_names_it(tmp_path):
    from local.sample_data import DEMO_CAMPAIGN, seed_campaign

    with LocalCloud(app_secret="source-secret") as source:  # a demo campaign with gifts, exported
        seed_campaign(source)
        for n, amount in enumerate((5_000, 7_500)):
            answer = source.http("POST", "/campaigns/demo/donations", {"amount_cents": amount, "currency": "USD"},
                                 {"Idempotency-Key": f"src-{n}"}).json()
            pay(source, answer)
        source.drain()
        portability.export_campaign("demo", tmp_path)
        published = figures(source, "demo")
    with LocalCloud(app_secret="target-secret") as target:  # `jubilee serve`: its own sample campaign
        seed_campaign(target, DEMO_CAMPAIGN)
        before = items()
        with pytest.raises(portability.PortabilityError) as refused:
            portability.import_campaign(tmp_path, "demo")
        said_ = str(refused.value)
        assert "holds campaign 'demo' with other data" in said_ and "nothing was imported" in said_
        assert "campaign: 1 different (META (" in said_ and "donations_confirmed" in said_ and "--no-sample" in said_
        assert items() == before  # not a record of the export came in
    with LocalCloud(app_secret="target-secret") as target:  # `jubilee serve --no-sample`
        portability.import_campaign(tmp_path, "demo")
        assert figures(target, "demo") == published
        with served(target) as base:
            assert cli.main(["verify-log", f"{base}/campaigns/demo"]) == 0
