"""One account, one purchase: the keys that know an account again, and what an offer's overlap takes off."""

from functions.domain.duplicates import BOUGHT, keys_of, net_of, overlap, taken_from
from functions.domain.forgiveness import account_keys
from functions.domain.offers import read_accounts
from functions.domain.planner import Offer
from local.sample_data import offer_csv

KEY = b"k" * 32


def accounts(n=3, seed=4):
    return list(read_accounts(offer_csv(n, seed).decode().splitlines(keepends=True)))


def test_an_account_respelled_has_the_same_keys_and_neither_is_its_public_hash():
    account = accounts(1)[0]
    respelled = account.model_copy(update={
        "original_creditor": "  ".join(account.original_creditor.upper().split()),
        "account_ref": " ".join(account.account_ref.lower()), "debtor_name": account.debtor_name.upper(),
        "address_line": account.address_line.replace(" ", "   ")})
    ref, person = keys_of(KEY, "c1", account)
    assert keys_of(KEY, "c1", respelled) == (ref, person)
    assert ref != person and len(ref) == len(person) == 32
    assert account_keys(KEY, "c1", account.account_ref)[0] not in (ref, person)  # not joinable to the public log
    assert keys_of(KEY, "c2", account) != (ref, person)  # one campaign's keys say nothing of another's
    assert keys_of(b"j" * 32, "c1", account) != (ref, person)  # nor can they be made without the key
    other_ref = account.model_copy(update={"account_ref": account.account_ref + "9"})
    assert keys_of(KEY, "c1", other_ref)[0] != ref and keys_of(KEY, "c1", other_ref)[1] == person
    other_balance = account.model_copy(update={"balance_cents": account.balance_cents + 1})
    moved = keys_of(KEY, "c1", other_balance)
    assert moved[0] == ref and moved[1] != person


def test_overlap_counts_what_was_bought_what_another_offer_holds_and_second_signals():
    a, b, c, d = accounts(4)
    keys = {id(x): keys_of(KEY, "c1", x) for x in (a, b, c, d)}
    seen = {keys[id(a)][0]: BOUGHT, keys[id(b)][0]: "offer-x", keys[id(c)][1]: "offer-x"}
    found = overlap([(x, keys[id(x)], x is not c) for x in (a, b, c, d)], seen)
    assert (found.accounts, found.already_bought, found.second_signal_only) == (3, 1, 1)
    assert found.face_value_cents == a.balance_cents + b.balance_cents + c.balance_cents
    assert (found.eligible_accounts, found.eligible_face_value_cents) == (2, a.balance_cents + b.balance_cents)
    assert found.offers == {"offer-x": {"accounts": 2, "eligible_accounts": 1,
                                        "eligible_face_value_cents": b.balance_cents}}


def test_an_open_offer_is_valued_without_what_later_offers_bought_since_share_with_it():
    first = Offer("x", "c1", "s", 100, 10_000, 10, "k", eligible_face_value_cents=8_000, eligible_accounts=8)
    share = {"accounts": 3, "eligible_accounts": 3, "eligible_face_value_cents": 2_500}
    items = [{"offer_id": "y", "status": "sold", "duplicates": {"offers": {"x": share}}},
             {"offer_id": "z", "status": "open", "duplicates": {"offers": {"x": share}}}]
    taken = taken_from(items, lambda item: item["status"] in ("held", "sold"))
    assert taken == {"x": [share]}  # z is only offered: x keeps what z shares with it
    net = net_of(first, taken["x"])
    assert (net.eligible_accounts, net.eligible_face_value_cents, net.value()) == (5, 5_500, 5_500)
    assert net_of(first, [share] * 4).value("people") == 0  # never below nothing


def test_a_file_listing_one_reference_twice_in_other_case_or_spacing_is_refused_at_that_row():
    from functions.domain.offers import check_accounts

    lines = offer_csv(2, 4).decode().splitlines(keepends=True)
    first_ref = lines[1].split(",")[0]
    again = lines[2].replace(lines[2].split(",")[0], " ".join(first_ref.lower()), 1)
    result = check_accounts([lines[0], lines[1], again])
    assert [str(p) for p in result.problems] == ["line 3, column account_ref: appears twice in the file"]
