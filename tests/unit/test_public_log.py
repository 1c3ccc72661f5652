"""The public log's chain: recomputed from the entries alone, every tampering located."""

import copy

from hypothesis import given
from hypothesis import strategies as st

from functions.domain.public_log import (
    GENESIS,
    compare,
    expense_body,
    forgiveness_body,
    next_entry,
    purchase_body,
    verify,
)


def chain(bodies):
    entries, previous = [], GENESIS
    for seq, body in enumerate(bodies, start=1):
        entries.append(next_entry(previous, seq, body))
        previous = entries[-1]["hash"]
    return entries


def sample_log():
    return chain([
        purchase_body("c", "c.a.0", "Acme", 5_000, 500_000, 40, "2026-01-01T00:00:00+00:00"),
        forgiveness_body("c", "c.a.0", 0, 25, 300_000, "2026-01-01T00:00:00+00:00"),
        forgiveness_body("c", "c.a.0", 1, 15, 200_000, "2026-01-01T00:00:00+00:00"),
        purchase_body("c", "c.b.0", "Beta", 1_000, 90_000, 3, "2026-01-02T00:00:00+00:00"),
        forgiveness_body("c", "c.b.0", 0, 3, 90_000, "2026-01-02T00:00:00+00:00"),
    ])


def test_an_untouched_log_verifies_and_gives_its_totals():
    log = sample_log()
    result = verify(log)
    assert result.ok and result.head == log[-1]["hash"]
    totals = result.totals
    assert (totals.entries, totals.purchases, totals.spent_cents) == (5, 2, 6_000)
    assert (totals.accounts_forgiven, totals.face_value_forgiven_cents) == (43, 590_000)
    published = {"log_head": log[-1]["hash"], "log_entries": 5, "purchases": 2, "spent_cents": 6_000,
                 "accounts_forgiven": 43, "face_value_forgiven_cents": 590_000}
    assert compare(result, published) == []
    assert compare(result, published | {"spent_cents": 6_001}) == [
        "published spent_cents is 6001, the entries give 6000"]


def test_an_altered_amount_is_named_by_its_entry():
    log = sample_log()
    log[2]["face_value_cents"] += 1
    result = verify(log)
    assert result.problems == ["entry 3 (seq 3): its content does not match its hash (altered)",
                               "plan c.a.0: more forgiven (40 accounts, 500001 cents) than bought (40, 500000)"]


def test_an_altered_entry_with_its_hash_recomputed_breaks_the_next_link():
    log = sample_log()
    body = {k: v for k, v in log[1].items() if k not in ("hash", "seq", "prev")} | {"accounts": 26}
    log[1] = next_entry(log[0]["hash"], 2, body)
    assert verify(log).problems[0] == ("entry 3 (seq 3): 'prev' is not the hash of the entry before it "
                                       "(dropped or reordered)")


def test_a_whole_chain_rewritten_no_longer_matches_the_published_head():
    original = sample_log()
    forged_bodies = [{k: v for k, v in e.items() if k not in ("hash", "seq", "prev")} for e in original]
    forged_bodies[0]["price_cents"] = 4_000
    forged = chain(forged_bodies)
    result = verify(forged)
    assert result.ok  # consistent in itself...
    problems = compare(result, {"log_head": original[-1]["hash"], "log_entries": 5, "purchases": 2,
                                "spent_cents": 6_000, "accounts_forgiven": 43, "face_value_forgiven_cents": 590_000})
    assert problems[0].startswith("published log_head is") and "spent_cents" in problems[1]  # ...not with the campaign


def test_dropped_and_reordered_entries_are_located():
    log = sample_log()
    dropped = log[:2] + log[3:]
    assert [p.split(":")[0] for p in verify(dropped).problems] == ["entry 3 (seq 4)", "entry 3 (seq 4)"]
    swapped = [log[0], log[2], log[1], *log[3:]]
    located = {p.split(":")[0] for p in verify(swapped).problems}
    assert located == {"entry 2 (seq 3)", "entry 3 (seq 2)", "entry 4 (seq 4)"}


def test_forgiving_more_than_was_bought_is_a_problem():
    log = chain([purchase_body("c", "p", "S", 100, 1_000, 2, "t"), forgiveness_body("c", "p", 0, 3, 1_000, "t"),
                 forgiveness_body("c", "q", 0, 1, 5, "t")])
    assert verify(log).problems == ["plan p: more forgiven (3 accounts, 1000 cents) than bought (2, 1000)",
                                    "plan q: forgiveness without a purchase entry"]


def test_accounts_skipped_as_forgiven_before_are_logged_and_still_bounded_by_the_purchase():
    bought = purchase_body("c", "p", "S", 100, 1_000, 3, "t")
    fine = chain([bought, forgiveness_body("c", "p", 0, 1, 400, "t", already_forgiven=2)])
    assert fine[1]["already_forgiven"] == 2 and verify(fine).ok and verify(fine).totals.accounts_forgiven == 1
    assert "already_forgiven" not in forgiveness_body("c", "p", 0, 1, 400, "t")  # as entries were before
    over = chain([bought, forgiveness_body("c", "p", 0, 2, 400, "t", already_forgiven=2)])
    assert verify(over).problems == ["plan p: more forgiven (2 accounts, 400 cents, 2 skipped as forgiven before) "
                                     "than bought (3, 1000)"]


@given(st.integers(0, 4), st.sampled_from(["price_cents", "face_value_cents", "accounts", "plan_id", "at"]),
       st.integers(1, 10**6))
def test_any_single_change_to_any_entry_is_caught_at_that_entry(index, field, change):
    log = copy.deepcopy(sample_log())
    if field not in log[index]:
        return
    value = log[index][field]
    log[index][field] = value + change if isinstance(value, int) else f"{value}x"
    assert any(p.startswith(f"entry {index + 1} ") for p in verify(log).problems)


def test_a_putback_nets_the_totals_and_one_beyond_the_purchase_is_named():
    from functions.domain.public_log import putback_body

    at = "2026-01-03T00:00:00+00:00"
    log = chain([*(dict(e) for e in _bodies(sample_log())), putback_body("c", "c.a.0", 2, 20_000, 400, "CM-1", at)])
    result = verify(log)
    assert result.ok, result.problems
    t = result.totals
    assert (t.accounts_forgiven, t.face_value_forgiven_cents, t.accounts_withdrawn) == (41, 570_000, 2)
    assert (t.spent_cents, t.seller_refunds_cents) == (5_600, 400)
    published = {"log_head": result.head, "log_entries": 6, "purchases": 2, "spent_cents": 5_600,
                 "accounts_forgiven": 41, "face_value_forgiven_cents": 570_000, "accounts_withdrawn": 2,
                 "seller_refunds_cents": 400}
    assert compare(result, published) == []
    assert compare(result, {**published, "seller_refunds_cents": 0}) != []
    too_much = chain([*_bodies(sample_log()), putback_body("c", "c.b.0", 4, 1, 1_001, "CM-2", at)])
    assert {p.split(":")[0] for p in verify(too_much).problems} == {"plan c.b.0"}
    orphan = chain([putback_body("c", "c.z.0", 1, 1, 1, "CM-3", at)])
    assert "before any purchase entry" in verify(orphan).problems[0]


def _bodies(entries):
    return [{k: v for k, v in e.items() if k not in ("seq", "prev", "hash")} for e in entries]
def test_expenses_are_counted_and_balanced_against_the_published_expenses():
    digest = "ab" * 32
    log = chain([expense_body("c", "c.exp-1", "Print Shop", "postage", 1_234, digest, "2026-01-03T00:00:00+00:00"),
                 expense_body("c", "c.exp-2", "Lawyer", "advice", 766, digest, "2026-01-04T00:00:00+00:00")])
    result = verify(log)
    assert result.ok and (result.totals.expenses, result.totals.expenses_cents) == (2, 2_000)
    published = {"log_head": log[-1]["hash"], "log_entries": 2, "purchases": 0, "spent_cents": 0,
                 "accounts_forgiven": 0, "face_value_forgiven_cents": 0, "expenses_cents": 2_000}
    assert compare(result, published) == []
    assert compare(result, published | {"expenses_cents": 1_999}) == [
        "published expenses_cents is 1999, the entries give 2000"]
    # Figures published before expenses existed say none: a log with expenses does not match them.
    without = {k: v for k, v in published.items() if k != "expenses_cents"}
    assert compare(result, without) == ["published expenses_cents is 0, the entries give 2000"]


def test_an_expense_logged_twice_or_without_its_receipt_digest_is_named():
    twice = expense_body("c", "c.exp-1", "Print Shop", "postage", 1_234, "ab" * 32, "2026-01-03T00:00:00+00:00")
    no_digest = expense_body("c", "c.exp-2", "Lawyer", "advice", 766, "not-a-digest", "2026-01-04T00:00:00+00:00")
    assert verify(chain([twice, twice, no_digest])).problems == [
        "entry 2 (seq 2): expense c.exp-1 is logged twice",
        "entry 3 (seq 3): an expense needs a positive amount, a payee and its receipt's SHA-256"]
