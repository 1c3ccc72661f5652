"""Refunds, disputes and monthly gifts through the real webhook and pool stage, on moto."""

import json

from functions.adapters.payments import SandboxPayments
from functions.adapters.secrets import derived_key
from tests.support import assert_books_balance, donate, figures, items

FEE = 10_000 * 290 // 10_000 + 30  # the sandbox card fee on $100: 2.9% + 30 cents
NET = 10_000 - FEE
RESERVE = NET // 10


def provider(cloud):
    return SandboxPayments(derived_key("sandbox-webhook"), cloud.public_base_url)


def pledge(cloud, amount=10_000, key="k1", **extra):
    created = donate(cloud, amount, key=key, **extra)
    assert created.status == 201, created.body
    return {"campaign_id": "c1", "amount_cents": amount, "currency": "USD", **created.json()}


def send(cloud, signed):
    headers, body = signed
    response = cloud.http("POST", "/webhooks/sandbox", body, headers)
    assert response.status == 200, response.body
    return response.json()["status"]


def test_partial_then_full_refund_comes_from_the_reserve_first(cloud):
    gift, sandbox = pledge(cloud), provider(cloud)
    assert send(cloud, sandbox.payment_completed(gift)) == "confirmed"
    assert send(cloud, sandbox.refunded(gift, 500)) == "refunded"
    cloud.drain()
    f = figures(cloud)
    assert (f["refunded_cents"], f["reserve_cents"]) == (500, RESERVE - 500)
    assert send(cloud, sandbox.refunded(gift, 10_000)) == "refunded"
    cloud.drain()
    f = figures(cloud)
    assert f["refunded_cents"] == 10_000 and f["reserve_cents"] == 0
    assert f["pool_available_cents"] == 0  # the pool paid what the reserve could not
    assert f["raised_cents"] == 10_000 and f["shortfall_cents"] == FEE  # the fee is not returned on a refund
    assert_books_balance(f)


def test_a_completion_delivered_three_times_and_after_its_refund_books_one_gift_and_one_refund(cloud):
    gift, sandbox = pledge(cloud), provider(cloud)
    completion, refund = sandbox.payment_completed(gift), sandbox.refunded(gift, 10_000)
    outcomes = [send(cloud, refund), send(cloud, completion), send(cloud, completion), send(cloud, refund),
                send(cloud, completion)]
    assert outcomes == ["refunded", "duplicate", "duplicate", "duplicate", "duplicate"]
    cloud.drain()
    f = figures(cloud)
    assert (f["donations_confirmed"], f["raised_cents"], f["refunded_cents"]) == (1, 10_000, 10_000)
    assert len(items("gift")) == 1 and len(items("refund")) == 1
    assert_books_balance(f)


def test_an_older_refund_total_arriving_late_changes_nothing(cloud):
    gift, sandbox = pledge(cloud), provider(cloud)
    send(cloud, sandbox.payment_completed(gift))
    late = sandbox.refunded(gift, 300)
    assert send(cloud, sandbox.refunded(gift, 800)) == "refunded"
    assert send(cloud, late) == "duplicate"
    cloud.drain()
    assert figures(cloud)["refunded_cents"] == 800


def test_a_disputed_gift_is_frozen_then_released_when_won(cloud):
    sandbox = provider(cloud)
    gift, other = pledge(cloud), pledge(cloud, 30_000, key="k2")
    send(cloud, sandbox.payment_completed(gift))
    send(cloud, sandbox.payment_completed(other))
    cloud.drain()
    before = figures(cloud)
    assert send(cloud, sandbox.dispute(gift, "dp_1", "open")) == "dispute_open"
    cloud.drain()
    frozen = figures(cloud)
    assert frozen["frozen_cents"] == 10_000 and frozen["reserve_cents"] == 0  # the reserve went first
    assert frozen["pool_available_cents"] == before["pool_available_cents"] - (10_000 - before["reserve_cents"])
    assert send(cloud, sandbox.dispute(gift, "dp_1", "won")) == "dispute_won"
    cloud.drain()
    won = figures(cloud)
    assert won["frozen_cents"] == 0 and won["pool_available_cents"] == frozen["pool_available_cents"] + 10_000
    assert won["shortfall_cents"] == 0
    assert_books_balance(won)


def test_a_lost_dispute_books_the_loss_and_its_fee_even_when_it_arrives_first(cloud):
    gift, sandbox = pledge(cloud), provider(cloud)
    send(cloud, sandbox.payment_completed(gift))
    closing = sandbox.dispute(gift, "dp_2", "lost", fee_cents=1_500)
    opening = sandbox.dispute(gift, "dp_2", "open")
    assert send(cloud, closing) == "dispute_lost"
    assert send(cloud, opening) == "duplicate"
    cloud.drain()
    f = figures(cloud)
    assert (f["disputes_lost_cents"], f["frozen_cents"]) == (10_000, 0)
    assert f["fees_cents"] == FEE + 1_500
    assert f["shortfall_cents"] == FEE + 1_500  # $100 lost plus fees, from a $100 gift
    assert [t["sk"] for t in items("dispute_opened")] == ["dispute_opened#sandbox#dp_2"]
    assert_books_balance(f)


def test_refunding_more_than_the_campaign_holds_books_a_shortfall_and_raises_the_alarm_metric(cloud, capsys):
    sandbox = provider(cloud)
    gift = pledge(cloud)
    send(cloud, sandbox.payment_completed(gift))
    cloud.drain()
    # Spend the pool: a purchase takes it all.
    from local.sample_data import offer_csv
    from ops import operations

    pool = figures(cloud)["pool_available_cents"]
    operations.add_offer("c1", offer_csv(2, 1), "sandbox", pool, offer_id="all-in")
    other = pledge(cloud, 1_000, key="k2")  # a second gift triggers the purchase check
    send(cloud, sandbox.payment_completed(other))
    cloud.drain()
    assert figures(cloud)["spent_cents"] == pool
    capsys.readouterr()
    send(cloud, sandbox.refunded(gift, 10_000))
    cloud.drain()
    f = figures(cloud)
    assert f["refunded_cents"] == 10_000 and f["reserve_cents"] == 0 and f["pool_available_cents"] == 0
    assert f["shortfall_cents"] > 0
    assert all(v >= 0 for k, v in f.items() if k.endswith("_cents"))
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"ShortfallCents"' in line]
    assert emf["ShortfallCents"] == [float(f["shortfall_cents"])]  # the metric the CloudWatch alarm watches
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert_books_balance(f)


def test_each_monthly_payment_is_a_donation_of_its_own(cloud):
    gift, sandbox = pledge(cloud, 2_000, frequency="monthly"), provider(cloud)
    send(cloud, sandbox.payment_completed(gift))
    for month in (2, 3, 3):  # month 3 delivered twice
        send(cloud, sandbox.installment_paid(gift, month))
    cloud.drain()
    f = figures(cloud)
    assert (f["donations_confirmed"], f["raised_cents"]) == (3, 6_000)
    months = sorted(d["donation_id"] for d in items("donation"))
    assert months == sorted([gift["donation_id"], f"{gift['donation_id']}-m2", f"{gift['donation_id']}-m3"])
    assert_books_balance(f)
