"""Eligibility: Undue's default policy, the HHS table as data, and no silent guess for Alaska or Hawaii."""

import datetime as dt
from pathlib import Path

from functions.adapters.reference_data import poverty_guidelines
from functions.domain.eligibility import Guidelines, Policy, assess, profile, read_guidelines
from functions.domain.offers import OfferAccount

TODAY = dt.date(2026, 11, 28)
GUIDELINES = poverty_guidelines()


def account(**changes):
    base = {"account_ref": "A", "debtor_name": "Avery Example", "address_line": "1 Imaginary Lane", "city": "X",
            "state": "OH", "zip": "44101", "original_creditor": "Example Hospital", "debt_type": "medical",
            "balance_cents": 100_000, "charge_off_date": "2022-01-01"}
    return OfferAccount.model_validate(base | changes)


def test_the_shipped_table_is_the_2026_federal_register_figures():
    assert GUIDELINES.for_household(2026, "contiguous_us_and_dc", 1) == 15_960_00
    assert GUIDELINES.for_household(2026, "contiguous_us_and_dc", 4) == 33_000_00
    assert GUIDELINES.for_household(2026, "contiguous_us_and_dc", 10) == 55_720_00 + 2 * 5_680_00  # +$5,680 each


def test_under_four_times_the_guideline_is_eligible_and_just_above_is_not():
    policy = Policy()
    limit = 4 * 21_640_00  # household of 2
    assert assess(account(household_income_cents=limit, household_size=2), policy, GUIDELINES, TODAY).eligible
    above = assess(account(household_income_cents=limit + 1, household_size=2), policy, GUIDELINES, TODAY)
    assert not above.eligible


def test_debt_of_five_percent_of_income_is_eligible_whatever_the_income():
    rich = dict(household_income_cents=200_000_00, household_size=1)
    assert assess(account(balance_cents=10_000_00, **rich), Policy(), GUIDELINES, TODAY).reason == \
        "debt at least 5% of income"
    assert not assess(account(balance_cents=9_999_99, **rich), Policy(), GUIDELINES, TODAY).eligible


def test_alaska_and_hawaii_are_never_judged_by_the_contiguous_table():
    verdict = assess(account(state="AK", household_income_cents=20_000_00, household_size=1), Policy(),
                     GUIDELINES, TODAY)
    assert (verdict.eligible, verdict.determined) == (False, False)
    assert verdict.reason == "no 2026 poverty guideline loaded for alaska"
    alaska = read_guidelines(["year,region,household_size,guideline_usd\n", "2026,alaska,1,19950\n"])
    loaded = GUIDELINES.merged(alaska)
    assert assess(account(state="AK", household_income_cents=20_000_00, household_size=1), Policy(), loaded,
                  TODAY).eligible


def test_debt_type_age_and_unknown_income_follow_the_policy():
    assert not assess(account(debt_type="credit_card"), Policy(), GUIDELINES, TODAY).eligible
    assert assess(account(), Policy(), GUIDELINES, TODAY).reason == "household income unknown"
    assert not assess(account(), Policy(eligible_when_income_unknown=False), GUIDELINES, TODAY).eligible
    assert not assess(account(charge_off_date="2015-01-01"), Policy(max_age_years=7), GUIDELINES, TODAY).eligible


def test_an_offer_profile_counts_everything_and_publishes_no_one():
    accounts = [account(account_ref="1"), account(account_ref="2", debt_type="auto", state="TX"),
                account(account_ref="3", state="HI", household_income_cents=1, household_size=1)]
    shape = profile(accounts, Policy(), GUIDELINES, TODAY)
    assert (shape.accounts, shape.eligible_accounts, shape.undetermined_accounts) == (3, 1, 1)
    assert shape.by_state["OH"] == {"accounts": 1, "face_value_cents": 100_000}
    assert "Avery" not in repr(shape.to_dict())


def test_the_data_file_states_its_source():
    readme = (Path(__file__).resolve().parents[2] / "functions" / "data" / "README.md").read_text()
    assert "Federal Register" in readme and isinstance(GUIDELINES, Guidelines)
