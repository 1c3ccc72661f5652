"""The campaign's forgiveness as 360Giving data: a grant package (JSON) that validates against the
standard's own package schema (vendored in ops/schemas/, see its README), and the same grants as a
spreadsheet (CSV) under the standard's column titles, read from that schema.

One grant per portfolio and state: the individuals whose debts in that state were bought with that
portfolio and forgiven. `amountAwarded` is the money spent on them (the portfolio's price, split
across its states by face value, to the cent); the face value forgiven is an additional field
(`faceValueForgiven`), as the standard allows. The standard has no package of zero grants (its
schema asks for at least one), so a campaign that has forgiven nothing yet gets no package.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from functions.domain.impact import split_cents
from functions.domain.money import CURRENCIES

SCHEMAS = Path(__file__).resolve().parent / "schemas"
PACKAGE_SCHEMA, GRANT_SCHEMA = "360-giving-package-schema.json", "360-giving-schema.json"
VERSION = "1.4"  # the standard's major.minor, as the package's `version` states it
LICENSE = "https://creativecommons.org/licenses/by/4.0/"  # Open Definition conformant, as the standard advises
PREFIX = re.compile(r"^360G-[A-Za-z0-9_-]{1,60}$")  # 360Giving's registered prefixes all start 360G-
PREFIX_RULE = "must start with 360G- (the prefix 360Giving registered for you), then letters, digits, '-' or '_'"
# From the standard's codelists: a first-level subnational area; financial hardship; debt.
LOCATION_SCOPE, GRANT_REASON, GRANT_PURPOSE = "GLS040", "GTIR010", "GTIP090"
# The standard's geoCodeType codelist has UK gazetteers only; a US state is named by its ISO 3166-2 code.
GEO_CODE_TYPE = "ISO 3166-2"
PROGRAMME = "Debt purchase and forgiveness"
DESCRIPTION = "Defaulted debt bought and forgiven in full; the debtors owe nothing and were told by letter."
# The spreadsheet's columns, in order: the standard's field paths (titles come from its schema),
# then this export's additional fields under titles of its own.
COLUMNS = [("id",), ("title",), ("description",), ("currency",), ("amountAwarded",), ("awardDate",),
           ("recipientIndividual", "id"), ("recipientIndividual", "name"),
           ("fundingOrganization", "id"), ("fundingOrganization", "name"),
           ("beneficiaryLocation", "name"), ("beneficiaryLocation", "countryCode"),
           ("beneficiaryLocation", "geoCode"), ("beneficiaryLocation", "geoCodeType"), ("locationScope",),
           ("toIndividualsDetails", "primaryGrantReason"), ("toIndividualsDetails", "grantPurpose"),
           ("grantProgramme", "code"), ("grantProgramme", "title")]
EXTRA_COLUMNS = {"faceValueForgiven": "Face Value Forgiven", "accountsForgiven": "Accounts Forgiven"}


class GrantPrefixError(ValueError):
    pass


def default_prefix(campaign_id: str) -> str:
    """Used until the campaign passes the prefix 360Giving registered for it (--grant-id-prefix)."""
    return f"360G-jubilee-{campaign_id}"


def check_prefix(prefix: str) -> str:
    if not PREFIX.match(prefix):
        raise GrantPrefixError(f"--grant-id-prefix: {PREFIX_RULE}")
    return prefix


def organisation_id(campaign: dict[str, Any], prefix: str) -> str:
    """The funder's org-id: `US-EIN-` and its 9 digits when the campaign has an EIN; otherwise, as the
    standard says for organisations with no registration number, the publisher prefix + an internal id."""
    ein = re.sub(r"\D", "", str(campaign.get("ein") or ""))
    return f"US-EIN-{ein}" if len(ein) == 9 else f"{prefix}-{campaign['campaign_id']}"


def major_units(cents: int, currency: str) -> str:
    """A placeholder `dumps` turns into a JSON number with the currency's decimals (no float on the way)."""
    places = CURRENCIES.get(currency, 2)
    sign, whole, part = "-" if cents < 0 else "", abs(cents) // 10**places, abs(cents) % 10**places
    return f"@@{sign}{whole}" + (f".{part:0{places}d}" if places else "") + "@@"


def package(campaign: dict[str, Any], events: list[dict[str, Any]], plans: list[dict[str, Any]], *,
            prefix: str, issued: str) -> dict[str, Any] | None:
    """The 360Giving data package, or None when nothing has been forgiven yet (a package needs a grant)."""
    currency, funder = campaign.get("currency", "USD"), campaign.get("legal_name") or campaign["name"]
    org_id = organisation_id(campaign, prefix)
    faces: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    accounts: dict[tuple[str, str], int] = defaultdict(int)
    dates: dict[str, str] = {}
    for event in events:
        faces[event["plan_id"]][event["state"]] += event["face_value_cents"]
        accounts[(event["plan_id"], event["state"])] += 1
        dates[event["plan_id"]] = max(dates.get(event["plan_id"], ""), event["forgiven_at"][:10])
    if not faces:
        return None
    prices = {plan["plan_id"]: plan["price_cents"] for plan in plans}
    grants = []
    for plan_id in sorted(faces):
        spent = split_cents(prices[plan_id], faces[plan_id])
        for state in sorted(faces[plan_id]):
            grant_id, count = f"{prefix}-{plan_id}-{state}", accounts[(plan_id, state)]
            grants.append({
                "id": grant_id, "title": f"Debt forgiven: {count} account(s) in {state}", "description": DESCRIPTION,
                "currency": currency, "amountAwarded": major_units(spent[state], currency),
                "awardDate": dates[plan_id],
                "recipientIndividual": {"id": f"{grant_id}-individuals", "name": f"{count} individual(s), not named"},
                "fundingOrganization": [{"id": org_id, "name": funder}],
                "beneficiaryLocation": [{"name": state, "countryCode": "US", "geoCode": f"US-{state}",
                                         "geoCodeType": GEO_CODE_TYPE}],
                "locationScope": LOCATION_SCOPE,
                "toIndividualsDetails": {"primaryGrantReason": GRANT_REASON, "grantPurpose": [GRANT_PURPOSE]},
                "grantProgramme": [{"code": plan_id, "title": PROGRAMME}],
                "faceValueForgiven": major_units(faces[plan_id][state], currency), "accountsForgiven": count,
            })
    return {
        "version": VERSION, "title": f"{funder}: debt bought and forgiven ({campaign['campaign_id']})",
        "description": "Each grant is the defaulted debt of anonymous individuals in one state, bought with one "
                       "portfolio and forgiven in full. Amount Awarded is the money spent on it; Face Value "
                       "Forgiven is the debt it abolished.",
        "identifier": f"{prefix}-{issued}", "issued": issued, "license": LICENSE,
        "publisher": {"identifier": org_id, "name": funder},
        "grants": grants,
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False).replace('"@@', "").replace('@@"', "")


def _schema_titles() -> dict[tuple[str, ...], str]:
    """Each column's title as the standard's spreadsheets write it: "Funding Org:Identifier"."""
    schema = json.loads((SCHEMAS / GRANT_SCHEMA).read_text())

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        node = node.get("items", node) if node.get("type") == "array" else node
        ref = node.get("$ref", "")
        return {**schema["$defs"][ref.removeprefix("#/$defs/")], **node} if ref else node

    titles = {}
    for path in COLUMNS:
        node, parts = schema, []
        for name in path:
            node = resolve(node)["properties"][name]
            parts.append(node.get("title") or resolve(node)["title"])
        titles[path] = ":".join(parts)
    return titles


def to_csv(data: dict[str, Any]) -> str:
    """The grants one a row, under the standard's column titles (the JSON's amounts, as written)."""
    grants = json.loads(dumps(data), parse_float=str)["grants"]
    titles = _schema_titles()
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow([*titles.values(), *EXTRA_COLUMNS.values()])
    for grant in grants:
        row = []
        for path in COLUMNS:
            value: Any = grant
            for name in path:
                value = value.get(name, "") if isinstance(value, dict) else value[0].get(name, "")
            row.append(";".join(value) if isinstance(value, list) else value)
        writer.writerow(row + [grant[name] for name in EXTRA_COLUMNS])
    return table.getvalue()
