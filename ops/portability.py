"""Take a campaign's data out in open formats, and bring it back into another deployment.

`export_campaign` writes each dataset as JSON Lines and CSV (the stored records, keys
included, so an import restores them exactly), the public figures as published, the
forgiveness grants as a 360Giving package (JSON, CSV) and a manifest with row counts and SHA-256
checksums. Keys never leave: debtors' sealed data and the keys of debtors and donors stay
in the source deployment (a new deployment has KMS keys of its own). Donors' names and
emails leave only with `include_personal_data`, opened from their seals; without it, no
donor can be told from another in the export.

Offers not yet bought need their files (debtors' data, as the seller sent them) to be bought:
those leave only with `include_personal_data` too. An import without them withdraws such
offers and voids a plan holding funds for one (the funds go back to the pool), with a warning,
rather than leave offers that cannot be bought and money held that no plan can settle.

`import_campaign` checks the manifest and refuses, naming what differs, if this deployment
holds the campaign with other data; otherwise it writes every record that is not there yet,
so importing twice changes nothing; afterwards the balances, totals, log head and
`jubilee verify-log` are the source's.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from functions.adapters import clock, donors, dynamo, keys, ledger, public_log, purchases, storage
from functions.adapters.aws import client, settings
from functions.domain.campaigns import UnknownCampaign
from functions.domain.ledger import net_deltas, void_transfer
from functions.domain.money import format_cents
from functions.domain.public_log import GENESIS, compare, verify
from functions.domain.purchase import purchase_record
from ops import giving360

FORMAT = "jubilee-export/1"
DATASETS = keys.DATASETS  # one per family of item that leaves the deployment (functions/adapters/keys.py)
# Ciphertext and keys; and a pledge's keyed body hash (it covered the donor's name and email).
NEVER_EXPORTED = ("sealed", "donor_sealed", "public_key", "private_key", "key", "request")
SET_ATTRIBUTES = ("approvers",)  # stored as string sets; JSON has lists
SEQUENCE_KEYS = {"campaign": "sk", "public_log": "seq"}
UNBOUGHT = ("open", "held")  # offers whose file is still needed: to be bought, or held for a plan
OFFER_FILES = "offer_files"
WITHDRAWN = "imported without its file (exported without --include-personal-data)"


class PortabilityError(Exception):
    """A clear reason an export or import did not happen (nothing was written by an import)."""


def dataset_of(item: dict[str, Any], campaign_id: str) -> str | None:
    """Which dataset a stored item belongs to, if it is this campaign's and leaves the deployment.

    The families that never leave say why in keys.FAMILIES (e.g. the registry entry and the
    reconciler's checkpoint are derived again after an import)."""
    family = keys.family_of(item, campaign_id)
    return family.dataset if family else None


def _open_record(item: dict[str, Any], include_personal_data: bool) -> dict[str, Any]:
    record = {k: sorted(v) if isinstance(v, set) else v for k, v in item.items()
              if k not in NEVER_EXPORTED and not isinstance(v, Binary) and k != "donor_ref"}
    if item.get("kind") == "donation" and include_personal_data:
        record["donor"] = donors.opened(item)  # None: none given, or erased
    return record


def _write(directory: Path, name: str, rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    jsonl = "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    (directory / f"{name}.jsonl").write_text(jsonl, encoding="utf-8")
    columns = sorted({key for row in rows for key in row})
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:  # nested values (ledger legs, offers in plans) as JSON in their cell
        writer.writerow({k: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list, bool)) else v
                         for k, v in row.items()})  # (booleans as JSON writes them: true, false)
    (directory / f"{name}.csv").write_text(table.getvalue(), encoding="utf-8")
    return [(f"{name}.jsonl", len(rows)), (f"{name}.csv", len(rows))]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_campaign(campaign_id: str, out: Path, include_personal_data: bool = False,
                    grant_id_prefix: str | None = None) -> dict[str, Any]:
    """Write the campaign's data to `out`; returns the manifest."""
    prefix = giving360.check_prefix(grant_id_prefix or giving360.default_prefix(campaign_id))
    figures = ledger.public_figures(campaign_id)
    if figures is None:
        raise PortabilityError(f"--campaign: {UnknownCampaign(campaign_id)} here")
    datasets: dict[str, list[dict[str, Any]]] = {name: [] for name in DATASETS}
    for item in dynamo.scan():
        name = dataset_of(item, campaign_id)
        if name == "public_log":
            datasets[name].append(json.loads(item["entry"]))
        elif name:
            datasets[name].append(_open_record(item, include_personal_data))
    for dataset, rows in datasets.items():
        rows.sort(key=lambda row: (row.get(SEQUENCE_KEYS.get(dataset, "pk")), row.get("sk", "")))
    _check_consistent(datasets, figures)
    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, int]] = []
    for name, rows in (datasets | {"purchases": purchases_of(datasets)}).items():
        written += _write(out, name, rows)
    if include_personal_data:  # the files of offers not yet bought, so they can be bought where imported
        (out / OFFER_FILES).mkdir(exist_ok=True)
        for offer in (o for o in datasets["offers"] if o["status"] in UNBOUGHT):
            path = f"{OFFER_FILES}/{offer['offer_id']}.csv"
            (out / path).write_text("".join(storage.read_lines(offer["object_key"])), encoding="utf-8")
            written.append((path, offer["accounts"]))
    (out / "published.json").write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    written.append(("published.json", 1))
    exported_at = clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")
    grants = giving360.package(datasets["campaign"][0], datasets["forgiveness_events"], datasets["plans"],
                               prefix=prefix, issued=exported_at[:10])
    if grants:
        (out / "grants-360giving.json").write_text(giving360.dumps(grants) + "\n", encoding="utf-8")
        (out / "grants-360giving.csv").write_text(giving360.to_csv(grants), encoding="utf-8")
        written += [("grants-360giving.json", 1), ("grants-360giving.csv", len(grants["grants"]))]
    manifest = {
        "format": FORMAT, "campaign_id": campaign_id, "exported_at": exported_at,
        "include_personal_data": include_personal_data,
        "files": [{"path": path, "rows": rows, "bytes": (out / path).stat().st_size, "sha256": _sha256(out / path)}
                  for path, rows in written],
        "not_exported": "debtors' sealed data and every key (debtors', donors'): they stay in the source deployment"
                        + ("" if include_personal_data else "; the files of offers not yet bought (an import "
                                                               "withdraws those offers)"),
    } | ({} if grants else {"not_360giving": "nothing forgiven yet: a 360Giving package needs at least one grant"})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def purchases_of(datasets: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The redacted record of each settled purchase, as GET /campaigns/{id}/purchases publishes it
    (a view of plans and offers: exported for readers, not imported)."""
    profiles = {o["offer_id"]: o.get("profile") or {} for o in datasets["offers"]}
    return [purchase_record(plan, profiles.get(plan["offer"]["offer_id"], {}))
            for plan in datasets["plans"] if plan["status"] == "settled"]


def _check_consistent(datasets: dict[str, list[dict[str, Any]]], figures: dict[str, Any]) -> None:
    """The balances are the sums of the ledger entries, and the log ends at the published head:
    otherwise the campaign moved while it was read, and the export would not be one moment's."""
    sums: dict[str, int] = defaultdict(int)
    for transfer in datasets["ledger_entries"]:
        for account, amount in transfer["legs"].items():
            sums[account] += amount
    cached = {row["sk"].removeprefix(keys.account_sk("")): row.get("balance", 0) for row in datasets["balances"]}
    log = datasets["public_log"]
    if any(cached.get(a, 0) != sums.get(a, 0) for a in set(cached) | set(sums)) or \
            (log[-1]["hash"] if log else GENESIS) != figures["log_head"]:
        raise PortabilityError("the campaign changed while it was being read; export again (nothing was kept)")


def verify_manifest(source: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is present with its size and checksum."""
    try:
        manifest = json.loads((source / "manifest.json").read_text())
    except (OSError, ValueError) as error:
        raise PortabilityError(f"DIR: {source} has no readable manifest.json ({error})") from None
    if manifest.get("format") != FORMAT:
        raise PortabilityError(f"DIR: manifest.json is not a {FORMAT} export")
    for entry in manifest["files"]:
        path = source / entry["path"]
        if not path.is_file():
            raise PortabilityError(f"DIR: {entry['path']} is missing")
        if _sha256(path) != entry["sha256"]:
            raise PortabilityError(f"DIR: {entry['path']} does not match its SHA-256 in manifest.json")
    return manifest


def read_jsonl(source: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (source / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line]


def import_campaign(source: Path, campaign_id: str, warn: Callable[[str], None] = lambda message: None
                    ) -> dict[str, int]:
    """Load an export into this deployment; returns how many records were new, by dataset.

    Refused, with nothing written, if this deployment holds the campaign with other data; what
    would be a mix of the two is named instead. `warn` is told of each offer withdrawn."""
    manifest = verify_manifest(source)
    if manifest["campaign_id"] != campaign_id:
        raise PortabilityError(f"--campaign: the export is of campaign {manifest['campaign_id']!r}; under another id "
                               "its public log would no longer verify")
    rows = {name: read_jsonl(source, name) for name in DATASETS}
    listed = {entry["path"] for entry in manifest["files"]}
    files = {o["offer_id"]: source / path for o in rows["offers"]
             if o["status"] in UNBOUGHT and (path := f"{OFFER_FILES}/{o['offer_id']}.csv") in listed}
    fileless = [o for o in rows["offers"] if o["status"] in UNBOUGHT and o["offer_id"] not in files
                and not _offer_file_here(o["object_key"])]
    notes = _withdraw(campaign_id, rows, fileless, manifest["exported_at"])
    wanted, personal = _records(campaign_id, rows)
    held = {(i["pk"], i["sk"]): i for i in dynamo.scan() if _dataset(i, campaign_id)}
    differences = _differences(campaign_id, wanted, held)
    if differences:
        raise PortabilityError(f"--campaign: this deployment holds campaign {campaign_id!r} with other data, so the "
                               "import would mix the two; nothing was imported. What differs: "
                               + "; ".join(differences) + ". Import into a deployment without it "
                               "(jubilee serve --no-sample starts one).")
    for offer_id, file in files.items():  # before its record: an open offer is never without its file
        storage.upload_offer(campaign_id, offer_id, file.read_bytes())
    written = dict.fromkeys(DATASETS, 0)
    # The campaign's own item last: until the rest is in, the campaign is not there to be read.
    for key in sorted(set(wanted) - set(held), key=lambda k: wanted[k]["sk"] == keys.META):
        item = wanted[key] | (donors.seal(campaign_id, wanted[key]["donation_id"], personal[key])
                              if key in personal else {})  # sealed anew, under this deployment's keys
        name = _dataset(item, campaign_id)
        assert name is not None  # wanted holds only the export's datasets' records
        written[name] += dynamo.put_new(item)
    ledger.register_campaign(campaign_id)
    if any(written.values()):  # entries came with their old times: the next reconcile is a full one
        ledger.forget_checkpoint(campaign_id)
    for note in notes:
        warn(note)
    return written


def _dataset(item: dict[str, Any], campaign_id: str) -> str | None:
    """dataset_of, and the log's head (made from its last entry, not exported)."""
    if (item["pk"], item["sk"]) == (keys.campaign_pk(campaign_id), keys.LOG_HEAD):
        return "public_log"
    return dataset_of(item, campaign_id)


def _records(campaign_id: str, rows: dict[str, list[dict[str, Any]]]
             ) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], dict[str, Any]]]:
    """The items the export stands for, by key, and the donors (opened) of those that had them."""
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    personal: dict[tuple[str, str], dict[str, Any]] = {}
    for name in DATASETS:
        if name == "public_log":
            items = [public_log.stored_entry(campaign_id, e) for e in rows[name]]
            items += [public_log.stored_head(campaign_id, rows[name][-1])] if rows[name] else []
        else:
            items = [{k: set(v) if k in SET_ATTRIBUTES and v else v for k, v in row.items() if k != "donor"}
                     for row in rows[name]]
            personal |= {(row["pk"], row["sk"]): row["donor"] for row in rows[name] if row.get("donor")}
        wanted |= {(item["pk"], item["sk"]): item for item in items}
    return wanted, personal


def _differences(campaign_id: str, wanted: dict[tuple[str, str], dict[str, Any]],
                 held: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """What this deployment holds of the campaign that the export does not say, by dataset. Records
    the export has and this deployment lacks are no difference: they are what an import adds."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for key, item in sorted(held.items()):
        name = _dataset(item, campaign_id)
        if name is None:
            continue  # not the campaign's (held holds only its items)
        if key not in wanted:
            found[name]["not in the export"].append(key[1])
            continue
        ours, theirs = _open_record(item, False), _open_record(wanted[key], False)
        if ours != theirs:
            fields = sorted(f for f in set(ours) | set(theirs) if ours.get(f) != theirs.get(f))
            found[name]["different"].append(f"{key[1]} ({', '.join(fields)})")
    return [f"{name}: {len(keys)} {how} ({', '.join(keys[:5])}{', …' if len(keys) > 5 else ''})"
            for name, hows in found.items() for how, keys in hows.items()]


def _offer_file_here(key: str) -> bool:
    try:
        client("s3").head_object(Bucket=settings().offers_bucket, Key=key)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return False
        raise


def _withdraw(campaign_id: str, rows: dict[str, list[dict[str, Any]]], offers: list[dict[str, Any]],
              at: str) -> list[str]:
    """Offers not yet bought whose files did not travel cannot be bought here: mark them withdrawn,
    and void a plan holding funds for one, as a refused sale is voided (the funds go back to the
    pool, in a void transfer). Done to the export's records, at the moment of the export, so the
    same export always lands the same way and importing it twice changes nothing."""
    notes, balances = [], {row["sk"]: row for row in rows["balances"]}
    currency = rows["campaign"][0]["currency"] if rows["campaign"] else "USD"
    for offer in offers:
        for plan in (p for p in rows["plans"]
                     if p["offer"]["offer_id"] == offer["offer_id"] and p["status"] in purchases.LIVE):
            transfer = void_transfer(campaign_id, plan["plan_id"], plan["price_cents"])
            plan.update(status="voided", finished_at=at, void_reason=WITHDRAWN)
            rows["ledger_entries"].append(ledger.transfer_item(transfer, at, plan_id=plan["plan_id"]))
            for account, delta in net_deltas([transfer]).items():
                row = balances.setdefault(keys.account_sk(account), {"pk": keys.campaign_pk(campaign_id),
                                                                     "sk": keys.account_sk(account)})
                row["balance"] = row.get("balance", 0) + delta
            offer["attempt"] = offer.get("attempt", 0) + 1
            notes.append(f"plan {plan['plan_id']} voided: the {format_cents(plan['price_cents'], currency)} it held "
                         "are back in the pool")
        offer.update(status="withdrawn", withdrawn_reason=WITHDRAWN)
        notes.append(f"offer {offer['offer_id']} withdrawn: its file (debtors' data) was not exported; export "
                     "with --include-personal-data to bring it, or add the offer again")
    rows["balances"] = list(balances.values())
    return notes


def _fetch_json(url: str) -> Any:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"}),
                                    timeout=30) as response:
            return json.load(response)
    except (urllib.error.URLError, ValueError, TimeoutError) as error:
        raise PortabilityError(f"URL: could not read {url}: {error}") from None


def published_log(source: str) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """The log entries, the figures published beside them, and notes on the source itself, from
    a campaign's URL (https://.../campaigns/ID) or an export directory."""
    if source.startswith(("http://", "https://")):
        base = source.rstrip("/")
        figures, page = _fetch_json(base), f"{base}/log"
        entries: list[dict[str, Any]] = []
        root = base[:base.index("/campaigns/")] if "/campaigns/" in base else base
        while page and len(entries) < figures.get("log_entries", 0):
            answer = _fetch_json(page)
            entries += answer["entries"]
            page = f"{root}{answer['next']}" if answer.get("next") and answer["entries"] else ""
        # The figures are of one moment; entries appended since belong to a later one.
        return entries[:figures.get("log_entries", 0)], figures, []
    directory = Path(source)
    if not (directory / "public_log.jsonl").is_file():
        raise PortabilityError(f"URL_OR_DIR: {source} is neither an http(s) URL nor an export directory")
    notes = []
    try:
        verify_manifest(directory)
    except PortabilityError as error:
        notes.append(str(error).removeprefix("DIR: "))
    return read_jsonl(directory, "public_log"), json.loads((directory / "published.json").read_text()), notes


def verify_log(source: str) -> dict[str, Any]:
    """Recompute the chain and totals from the public entries alone, against what is published."""
    entries, figures, notes = published_log(source)
    result = verify(entries)
    problems = result.problems + compare(result, figures)
    return {"ok": not problems, "entries": len(entries), "head": result.head,
            "published_head": figures.get("log_head"), "totals": result.to_dict()["totals"],
            "problems": problems, "notes": notes}
