"""A letter's status rules and the mail service's webhook signature, without AWS."""

from __future__ import annotations

import json
import time

import pytest

from functions.adapters.mail import WebhookRejected, verify_webhook
from functions.domain import letters as rules
from tests.fake_lob import sign


def test_a_status_only_moves_forward_and_each_mailing_is_counted_once():
    assert rules.move("printed", "mailed") == rules.Move(letters_sent=1, letters_waiting=-1, unsettled=-1)
    # "mailed" was lost:
    assert rules.move("printed", "delivered") == rules.Move(letters_sent=1, letters_waiting=-1, unsettled=-1)
    assert rules.move("mailed", "delivered") == rules.Move()
    assert rules.move("mailed", "returned") == rules.Move(letters_returned=1, unsettled=1)
    assert rules.move("printed", "returned") == rules.Move(letters_sent=1, letters_returned=1, letters_waiting=-1,
                                                           unsettled=0)
    assert rules.move("undeliverable", "mailed") == rules.Move(letters_sent=1, unsettled=-1)  # never waiting
    for stuck in (("mailed", "mailed"), ("delivered", "mailed"), ("delivered", "returned"),
                  ("returned", "delivered"), ("returned", "mailed"), ("mailed", "printed")):
        assert rules.move(*stuck) is None, stuck
    assert set(rules.predecessors("mailed")) == {"printed", "undeliverable"}


def test_a_prepared_letter_waits_and_only_a_mailing_counts_as_sent():
    assert rules.prepared("printed", first_attempt=True) == rules.Move(letters_waiting=1, unsettled=1)
    assert rules.prepared("undeliverable", first_attempt=True) == rules.Move(unsettled=1)
    assert rules.prepared("printed", first_attempt=False) == rules.Move(letters_waiting=1)  # a resend
    assert rules.prepared("printed", True).counters() == {"letters_waiting": 1}


def test_every_lob_scan_means_mailed_and_the_ends_are_delivered_or_returned():
    assert rules.LOB_EVENTS["letter.in_local_area"] == "mailed"
    assert rules.LOB_EVENTS["letter.delivered"] == "delivered"
    assert rules.LOB_EVENTS["letter.returned_to_sender"] == "returned"
    assert rules.lob_tracking({"event_type": {"id": "letter.created"}}) == "not a letter tracking event"
    assert rules.lob_tracking({"event_type": {"id": "letter.mailed"}, "body": []}) == "not a letter of this deployment"
    event = {"event_type": {"id": "letter.mailed"}, "reference_id": "ltr_1",
             "body": {"id": "ltr_1", "metadata": {"campaign_id": "c", "plan_id": "p", "account": "a"}}}
    assert rules.lob_tracking(event) == rules.Tracked("c", "p", "a", "ltr_1", "mailed")


def test_the_idempotency_key_is_stable_per_mailing_and_within_lobs_limit():
    key = rules.idempotency_key("c" * 63 + "/plan-" + "x" * 40 + "/000001", "f" * 32, 1)
    assert key == rules.idempotency_key("c" * 63 + "/plan-" + "x" * 40 + "/000001", "f" * 32, 1)
    assert len(key) <= 256 and key != rules.idempotency_key("b", "f" * 32, 2)


def test_a_webhook_is_taken_only_with_lobs_signature_over_timestamp_and_body():
    body = json.dumps({"id": "evt_1"}).encode()
    assert verify_webhook(sign(body, "s"), body, "s") == {"id": "evt_1"}
    seconds = str(int(time.time()))  # a timestamp in seconds is read as such
    assert verify_webhook(sign(body, "s", seconds), body, "s") == {"id": "evt_1"}
    for headers, secret, why in ((sign(body, "other"), "s", "does not match"),
                                 (sign(body + b" ", "s"), "s", "does not match"),
                                 (sign(body, "s", str(int(time.time() - 600) * 1000)), "s", "too old"),
                                 ({}, "s", "required"), (sign(body, "s"), "", "no webhook secret")):
        with pytest.raises(WebhookRejected, match=why):
            verify_webhook(headers, body, secret)
