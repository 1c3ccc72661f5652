"""Fake credentials and moto before anything makes a boto3 client: no test can reach AWS."""

import os

os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"})
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

import moto  # noqa: E402,F401  (registers moto's botocore hook before any client exists)
import pytest  # noqa: E402

from functions.domain.campaigns import Campaign  # noqa: E402
from local.emulator import LocalCloud  # noqa: E402
from ops import operations  # noqa: E402

CAMPAIGN = Campaign("c1", "Test Campaign", threshold_cents=1_000, contact="team@test.example")


@pytest.fixture
def served_cloud(monkeypatch):
    """A deployment behind a real local endpoint, as `jubilee serve` exposes one: (cloud, endpoint URL)."""
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        with LocalCloud(public_base_url="http://jubilee.test", endpoint_url=endpoint, app_secret="s") as local:
            operations.create_campaign(CAMPAIGN)
            yield local, endpoint
    finally:
        server.stop()
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def cloud():
    """A fresh emulated deployment with one campaign that buys as soon as $10 is pooled."""
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="test-secret") as local:
        operations.create_campaign(CAMPAIGN)
        yield local

from hypothesis import settings  # noqa: E402

# `make test` runs the default profile; a nightly job sets HYPOTHESIS_PROFILE=nightly for ten times more.
settings.register_profile("default", max_examples=200, deadline=None)
settings.register_profile("nightly", max_examples=2_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
