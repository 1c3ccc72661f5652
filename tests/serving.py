"""Running `jubilee serve` as a person does (a real process on real ports), for the tests that need it."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(method, url, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def start(*args: str, env: dict[str, str] | None = None):
    port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")} | (env or {})
    process = subprocess.Popen([sys.executable, "-m", "ops.cli", "serve", "--port", str(port),
                                "--aws-port", str(aws_port), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=env, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if call("GET", f"{base}/openapi.json")[0] == 200:  # (the sample campaign is made before)
                break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail(f"jubilee serve did not start: {process.stdout.read()}")
    return process, base, f"http://127.0.0.1:{aws_port}"


@contextlib.contextmanager
def running(*args: str, env: dict[str, str] | None = None):
    """`jubilee serve *args` for the length of a `with`: (base URL, AWS endpoint)."""
    process, base, endpoint = start(*args, env=env)
    try:
        yield base, endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_for(base, campaign, key, value):
    """The campaign's public figures once `key` reads `value` (or after 20 s, as they are then)."""
    return wait_until(base, campaign, lambda figures: figures[key] == value, seconds=20)


def wait_until(base, campaign, ready, seconds=30):
    """The campaign's public figures once `ready(figures)` holds (the workers run in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        figures = json.loads(call("GET", f"{base}/campaigns/{campaign}")[1])
        if ready(figures) or time.monotonic() > deadline:
            return figures
        time.sleep(0.05)
