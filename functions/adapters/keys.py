"""Every key of the ledger table, and every family of item it holds: the one place both are written.

A family is the items one key shape holds (a partition, and a sort-key prefix). Each either leaves
the deployment in an export dataset or says why it never does; `family_of` names the family of any
stored item, so a new kind of item that is not listed here fails a test instead of silently missing
the export (tests/unit/test_keys.py, and the demo's scan in tests/integration/test_data_rules.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# --- the campaign's own partition -------------------------------------------------------------

META = "META"  # the campaign's settings and counters
PLANNING = "PLANNING"  # the planner's lease and last run
CHECKPOINT = "RECONCILED"  # the reconciler's checkpoint
LOG_HEAD = "LOGHEAD"  # the public log's last sequence number and hash
REGISTRY = "CAMPAIGNS"  # one partition listing every campaign (sort key: its id)


def _key(prefix: str) -> Callable[[str], str]:
    """A key builder: `prefix` and the one id it is given."""
    return lambda value: f"{prefix}{value}"


def _per_plan(prefix: str) -> Callable[[str, str], str]:
    """A partition per campaign and plan (one portfolio's chunks, events or letters)."""
    return lambda campaign_id, plan_id: f"{prefix}{campaign_id}#{plan_id}"


campaign_pk = _key("CAMPAIGN#")
account_sk = _key("ACCOUNT#")  # a ledger account's cached balance
donation_sk = _key("DONATION#")
offer_sk = _key("OFFER#")
plan_sk = _key("PLAN#")
expense_sk = _key("EXPENSE#")  # an expense held, approved, paid or voided (sort key: its id)
donor_key_sk = _key("DONORKEY#")
debtor_key_sk = _key("DEBTORKEY#")
letters_due_sk = _key("LETTERSDUE#")  # a chunk's letters held until their date (sort key: the date first)
email_sk = _key("EMAIL#")  # one email to a donor, once sent (sort key: the message's id)
unsubscribed_sk = _key("UNSUBSCRIBED#")  # a donor who asked for no more email (by donor_ref)
statements_sk = _key("STATEMENTS#")  # a year whose statements were asked for (sort key: the year)
change_sk = _key("CHANGE#")  # a change of the campaign's settings (sort key: its version and field)

# --- partitions of their own --------------------------------------------------------------------

# A campaign's donations are spread over this many partitions, by pledge, so a popular campaign's pledges and
# confirmations never meet one partition's write limit (1,000 units a second; README, "Capacity"). Fixed for
# good: a donation is found by its id's shard, so changing it would hide every donation stored before.
DONATION_SHARDS = 16
DONATIONS_PREFIX = "DONATIONS#"


def donation_pk(campaign_id: str, donation_id: str) -> str:
    """The partition of a donation: a monthly pledge's installments ("don_<pledge>-<payment>") share its pledge's;
    any other id (an offline gift's "offline-<hash>") is its own."""
    pledge = donation_id.split("-", 1)[0] if donation_id.startswith("don_") else donation_id
    shard = zlib.crc32(pledge.encode()) % DONATION_SHARDS
    return f"{DONATIONS_PREFIX}{campaign_id}#{shard:02d}"


def donation_partitions(campaign_id: str) -> list[str]:
    """Every partition holding the campaign's donations (the campaign's own partition held them before)."""
    return [f"{DONATIONS_PREFIX}{campaign_id}#{shard:02d}" for shard in range(DONATION_SHARDS)]


ledger_pk = _key("LEDGER#")  # the campaign's ledger entries (sort key: the transfer id)
log_pk = _key("LOG#")  # the public log's entries (sort key: the zero-padded sequence number)
chunk_pk = _per_plan("CHUNK#")
forgiven_pk = _per_plan("FORGIVEN#")
letters_pk = _per_plan("LETTERS#")
withheld_pk = _per_plan("WITHHELD#")  # accounts scrubbed or put back: no letter (sort key: the account hash)
proof_pk = _per_plan("PROOF#")  # an offer's sorted keyed account hashes, in parts (sort key: the part's number)
verify_pk = _key("VERIFY#")  # a letter's verification code (its digest), looked up by the public verify page
VERIFY = "VERIFY"
outbox_pk = _key("OUTBOX#")
OUTBOX = "OUTBOX"
OUTBOX_PREFIX = outbox_pk("")


def chunk_sk(chunk: int) -> str:
    return f"{chunk:06d}"


def mail_pk(campaign_id: str, plan_id: str) -> str:
    """Each letter of a plan sent through a mail service or a print bundle (sort key: its account hash)."""
    return f"MAIL#{campaign_id}#{plan_id}"


def claim_pk(campaign_id: str, key: str) -> str:
    """An account (sort key ACCOUNT) or person (PERSON) met by the campaign, by keyed hash."""
    return f"ACCOUNT#{campaign_id}#{key}"


# --- the families, and where each goes in an export ------------------------------------------


@dataclass(frozen=True)
class Family:
    """Items of one key shape. `dataset` is the export's file for them; None needs `excluded`,
    the reason they never leave the deployment."""

    name: str
    pk: Callable[[str], str]  # the campaign's partition (or its prefix, with `pk_prefix`)
    sk: str = ""  # the sort key's prefix ("" for any)
    dataset: str | None = None
    excluded: str = ""
    pk_prefix: bool = False  # the partition is the campaign's prefix (one partition per plan, or per key)
    by_attribute: bool = False  # the partition names no campaign: its campaign_id attribute does

    def holds(self, item: dict[str, Any], campaign_id: str) -> bool:
        pk, sk = item["pk"], item["sk"]
        if self.by_attribute:
            mine = pk.startswith(self.pk("")) and item.get("campaign_id") == campaign_id
        elif self.pk_prefix:
            mine = pk.startswith(self.pk(campaign_id))
        else:
            mine = pk == self.pk(campaign_id)
        return mine and sk.startswith(self.sk)


def _in_campaign(sk: str, **how: Any) -> Family:
    return Family(how.pop("name"), campaign_pk, sk, **how)


FAMILIES: tuple[Family, ...] = (
    _in_campaign(META, name="campaign", dataset="campaign"),
    _in_campaign(account_sk(""), name="balance", dataset="balances"),
    Family("ledger-entry", ledger_pk, dataset="ledger_entries"),
    Family("donation", lambda c: f"{DONATIONS_PREFIX}{c}#", donation_sk(""), dataset="donations", pk_prefix=True),
    # Donations stored before they had partitions of their own: read where they are (ledger.py).
    _in_campaign(donation_sk(""), name="donation-unsharded", dataset="donations"),
    _in_campaign(offer_sk(""), name="offer", dataset="offers"),
    _in_campaign(plan_sk(""), name="plan", dataset="plans"),
    _in_campaign(expense_sk(""), name="expense", dataset="expenses"),
    _in_campaign(PLANNING, name="planning", dataset="planning"),
    _in_campaign(change_sk(""), name="campaign-change", dataset="campaign_changes"),
    Family("forgiveness", lambda c: forgiven_pk(c, ""), dataset="forgiveness_events", pk_prefix=True),
    Family("chunk", lambda c: chunk_pk(c, ""), dataset="forgiveness_chunks", pk_prefix=True),
    # A batch's item and its mailing record ("<chunk>#mailed") share the batch's partition.
    Family("letters", lambda c: letters_pk(c, ""), dataset="letter_batches", pk_prefix=True),
    Family("verification", lambda _: verify_pk(""), VERIFY, dataset="letter_verifications", by_attribute=True),
    Family("withheld", lambda c: withheld_pk(c, ""), dataset="withheld_accounts", pk_prefix=True),
    Family("purchase-proof", lambda c: proof_pk(c, ""), dataset="purchase_proofs", pk_prefix=True),
    _in_campaign(letters_due_sk(""), name="letters-due",
                 excluded="letters waiting for their date: sending them needs the debtor key, which never leaves"),
    Family("log-entry", log_pk, dataset="public_log"),
    _in_campaign(LOG_HEAD, name="log-head",
                 excluded="made again from the log's last entry when the log is imported"),
    _in_campaign(CHECKPOINT, name="reconcile-checkpoint",
                 excluded="derived: the next reconcile after an import recomputes every balance from the entries"),
    _in_campaign(donor_key_sk(""), name="donor-key",
                 excluded="key material: an import seals donors anew under the importing deployment's keys"),
    _in_campaign(debtor_key_sk(""), name="debtor-key",
                 excluded="key material that expires to shred debtors' data; never copied anywhere"),
    Family("letter", lambda c: mail_pk(c, ""), pk_prefix=True,
           excluded="each letter's mailing state (status, the mail service's id, a corrected address sealed to "
                    "the debtor key): bound to this deployment's mail account and key, kept only while they are"),
    Family("account-claim", lambda c: claim_pk(c, ""), pk_prefix=True,
           excluded="keyed hashes under this deployment's secret: meaningless under another's"),
    _in_campaign(email_sk(""), name="email-sent",
                 excluded="this deployment's sending bookkeeping (kind, SES's message id, when; no address, no body): "
                          "it keeps a redelivered message from sending twice here"),
    _in_campaign(unsubscribed_sk(""), name="email-unsubscribe",
                 excluded="keyed by donor_ref, a hash under this deployment's secret: meaningless under another's"),
    _in_campaign(statements_sk(""), name="email-statements",
                 excluded="derived: which years' statements this deployment has asked its mail function to send"),
    Family("campaign-registry", lambda _: REGISTRY,
           excluded="derived: an import registers the campaign it brings"),
    Family("outbox", lambda _: OUTBOX_PREFIX, OUTBOX, pk_prefix=True,
           excluded="messages between stages, relayed within seconds: an import has none in flight"),
)
DATASETS: tuple[str, ...] = tuple(dict.fromkeys(f.dataset for f in FAMILIES if f.dataset))


def family_of(item: dict[str, Any], campaign_id: str) -> Family | None:
    """The family of a campaign's item; None if the item is not this campaign's (or of no family)."""
    if item["pk"] == REGISTRY:  # its sort key is the campaign
        return FAMILIES_BY_NAME["campaign-registry"] if item["sk"] == campaign_id else None
    if item["pk"].startswith(OUTBOX_PREFIX):  # messages name their campaign inside, if at all
        return FAMILIES_BY_NAME["outbox"]
    return next((f for f in FAMILIES if f.holds(item, campaign_id)), None)


FAMILIES_BY_NAME = {f.name: f for f in FAMILIES}
