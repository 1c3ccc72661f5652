"""One key schema: every family of stored item either leaves in an export dataset or says why not."""

from functions.adapters import keys
from ops import portability

CID = "c1"


def test_every_family_has_a_dataset_or_a_reason_and_the_export_writes_every_dataset():
    for family in keys.FAMILIES:
        assert (family.dataset is None) == bool(family.excluded), family.name
    assert portability.DATASETS == keys.DATASETS
    assert len({f.name for f in keys.FAMILIES}) == len(keys.FAMILIES)


def test_a_pledges_installments_share_its_partition_and_other_ids_spread_whole():
    pledge = "don_0123456789abcdef0123"
    installments = {keys.donation_pk(CID, i) for i in (f"{pledge}-in_1", f"{pledge}-m2")}
    assert installments == {keys.donation_pk(CID, pledge)}
    offline = {keys.donation_pk(CID, f"offline-{n:024x}") for n in range(64)}  # not all in one
    assert len(offline) > 8 and offline <= set(keys.donation_partitions(CID))


def test_each_key_builder_names_one_family_and_another_campaigns_items_none():
    made = {
        "campaign": (keys.campaign_pk(CID), keys.META),
        "balance": (keys.campaign_pk(CID), keys.account_sk("pool")),
        "donation": (keys.donation_pk(CID, "d1"), keys.donation_sk("d1")),
        "donation-unsharded": (keys.campaign_pk(CID), keys.donation_sk("d1")),
        "offer": (keys.campaign_pk(CID), keys.offer_sk("o1")),
        "plan": (keys.campaign_pk(CID), keys.plan_sk("c1.o1.1")),
        "expense": (keys.campaign_pk(CID), keys.expense_sk("c1.exp-0123456789abcdef")),
        "planning": (keys.campaign_pk(CID), keys.PLANNING),
        "campaign-change": (keys.campaign_pk(CID), keys.change_sk("000001#contact")),
        "ledger-entry": (keys.ledger_pk(CID), "gift#sandbox#p1"),
        "log-entry": (keys.log_pk(CID), "0000000001"),
        "forgiveness": (keys.forgiven_pk(CID, "p"), f"{keys.chunk_sk(0)}#digest"),
        "chunk": (keys.chunk_pk(CID, "p"), keys.chunk_sk(0)),
        "letters": (keys.letters_pk(CID, "p"), f"{keys.chunk_sk(0)}#mailed"),
        "letter": (keys.mail_pk(CID, "p"), "account-hash"),
        "log-head": (keys.campaign_pk(CID), keys.LOG_HEAD),
        "reconcile-checkpoint": (keys.campaign_pk(CID), keys.CHECKPOINT),
        "donor-key": (keys.campaign_pk(CID), keys.donor_key_sk("donor-1")),
        "debtor-key": (keys.campaign_pk(CID), keys.debtor_key_sk("p")),
        "account-claim": (keys.claim_pk(CID, "abc"), "ACCOUNT"),
        "campaign-registry": (keys.REGISTRY, CID),
        "outbox": (keys.outbox_pk("m1"), keys.OUTBOX),
        "withheld": (keys.withheld_pk(CID, "p"), "account-hash"),
        "letters-due": (keys.campaign_pk(CID), keys.letters_due_sk("2026-01-01T00:00:00+00:00#p#000000")),
        "purchase-proof": (keys.proof_pk(CID, "o1"), "000000"),
        "email-sent": (keys.campaign_pk(CID), keys.email_sk("receipt#d1")),
        "email-unsubscribe": (keys.campaign_pk(CID), keys.unsubscribed_sk("donor-1")),
        "email-statements": (keys.campaign_pk(CID), keys.statements_sk("2025")),
    }
    for name, (pk, sk) in made.items():
        family = keys.family_of({"pk": pk, "sk": sk}, CID)
        assert family is not None and family.name == name, (name, family)
    verification = {"pk": keys.verify_pk("digest"), "sk": keys.VERIFY, "campaign_id": CID}
    assert keys.family_of(verification, CID).dataset == "letter_verifications"
    assert set(made) | {"verification"} == {f.name for f in keys.FAMILIES}
    # Another campaign whose id shares a prefix owns none of these.
    for name, (pk, sk) in made.items():
        if name not in ("outbox",):
            assert keys.family_of({"pk": pk, "sk": sk}, "c10") is None, name
    assert keys.family_of(verification, "c10") is None
