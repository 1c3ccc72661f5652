"""Covering the fees (the gross-up and how the books split it), and a campaign's legal identity."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.campaigns import Campaign, CampaignError, parse_address
from functions.domain.gifts import covered_fees
from functions.domain.ledger import gift_transfer, split_gift
from functions.domain.money import share_bps
from functions.domain.receipts import tax_lines


@given(gift=st.integers(1, 10**7), bps=st.integers(0, 2_000), fixed=st.integers(0, 10_000))
def test_the_gross_up_is_the_smallest_whole_cent_total_whose_estimated_fee_leaves_the_gift(gift, bps, fixed):
    total = gift + covered_fees(gift, bps, fixed)
    assert total * (10_000 - bps) >= (gift + fixed) * 10_000  # total - (bps of it + fixed) >= gift
    assert (total - 1) * (10_000 - bps) < (gift + fixed) * 10_000  # rounded up, not further


@given(gross=st.integers(1, 10**9), fee_share=st.integers(0, 10_000), covered_share=st.integers(0, 10_000),
       bps=st.integers(0, 9_999))
def test_a_gift_that_covers_its_fee_splits_to_the_cent(gross, fee_share, covered_share, bps):
    fee, covered = gross * fee_share // 10_000, gross * covered_share // 10_000
    split = split_gift(gross, fee, bps, covered)
    assert split.fee_cents + split.reserve_cents + split.pool_cents == gross
    assert min(split.reserve_cents, split.pool_cents) >= 0
    # The fee is paid from what was added first; the reserve's share is of the rest of the gift only.
    assert split.reserve_cents == share_bps(gross - fee - max(covered - fee, 0), bps)
    legs = dict((leg.account, leg.amount_cents) for leg in gift_transfer("t", "c", gross, fee, bps, covered).legs)
    assert sum(legs.values()) == 0 and legs["donors"] == -gross


def test_what_covers_the_fee_cannot_exceed_the_gift():
    with pytest.raises(ValueError, match="covers the fee"):
        split_gift(100, 10, 1_000, 101)


def test_an_address_on_one_line_is_read_into_its_parts_and_a_bad_one_names_the_field():
    assert parse_address("1 Main St, Suite 2, Springfield, IL 62701-1234") == (
        "1 Main St, Suite 2", "Springfield", "IL", "62701-1234")
    for bad in ("1 Main St", "1 Main St, Springfield", ", Springfield, IL 62701", "1 Main St, Springfield, XX 62701",
                "1 Main St, Springfield, IL", "1 Main St, Springfield, IL 6270"):
        with pytest.raises(CampaignError) as caught:
            parse_address(bad)
        assert caught.value.field == "address"


@pytest.mark.parametrize("ein", ["123456789", "12-345678", "AB-1234567", "12-34567890"])
def test_an_ein_is_two_digits_a_dash_and_seven_digits(ein):
    with pytest.raises(CampaignError) as caught:
        Campaign("ok", "N", ein=ein)
    assert caught.value.field == "ein"
    assert Campaign("ok", "N", ein="12-3456789", entity_type="501c3").ein == "12-3456789"


@pytest.mark.parametrize("entity_type", ["501c4", "sponsored", "none"])
def test_only_a_501c3s_receipt_says_a_gift_is_deductible(entity_type):
    charity = Campaign("ok", "N", legal_name="N Inc.", ein="12-3456789", entity_type="501c3").to_dict()
    other = Campaign("ok", "N", legal_name="N Inc.", ein="12-3456789", entity_type=entity_type).to_dict()
    assert "N Inc. (EIN 12-3456789) is a tax-exempt organization under section 501(c)(3)" in " ".join(
        tax_lines(charity))
    assert "not tax-deductible" in " ".join(tax_lines(other)) and "tax-deductible to" not in " ".join(tax_lines(other))
    assert tax_lines(other)[0] == tax_lines(charity)[0] == (
        "No goods or services were provided in exchange for this contribution.")


def test_receipt_links_donors_already_hold_keep_working():
    import hashlib
    import hmac

    from functions.domain.receipts import link_matches

    issued = hmac.new(b"k", b"receipt|c1|don_1", hashlib.sha256).hexdigest()[:32]  # as links were signed before
    assert link_matches(b"k", issued, "receipt", "c1", "don_1")
    assert not link_matches(b"k", issued, "manage", "c1", "don_1") and not link_matches(b"k", issued[:-1], "receipt",
                                                                                          "c1", "don_1")
