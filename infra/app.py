"""CDK entry point: `make synth` / `make deploy` (cdk.json runs `python -m infra.app`)."""

from __future__ import annotations

import os
import sys
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from functions.domain.campaigns import PROVIDERS
from infra.stack import JubileeStack

# Set here rather than in cdk.json so that tests, `make synth` and `cdk deploy` build the same template.
FEATURE_FLAGS = {
    # Access logs are delivered under a bucket policy, not a legacy ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


class DeployChoiceMissing(ValueError):
    """A deployment setting the operator must choose; synth stops before anything is built."""


def build(outdir: str | None = None, context: dict[str, Any] | None = None) -> App:
    """`context`: what `cdk deploy -c key=value` passes (CDK_CONTEXT_JSON), given directly by tests."""
    app = App(outdir=outdir or os.environ.get("CDK_OUTDIR") or "cdk.out", context=FEATURE_FLAGS | (context or {}))
    # No default: a stack taking real money must never come up with the sandbox's free checkout.
    payments = app.node.try_get_context("payments")
    if payments not in PROVIDERS:
        given = f"-c payments={payments}" if payments else "no -c payments given"
        raise DeployChoiceMissing(
            f"{given}: choose how donors pay in this deployment: -c payments=stripe (real money; no sandbox "
            "routes) or -c payments=sandbox (trials: a checkout page that confirms without charging)")
    JubileeStack(app, app.node.try_get_context("stack") or "Jubilee", payments=payments,
                 campaign=app.node.try_get_context("campaign") or "demo",
                 email_identity=app.node.try_get_context("email_identity") or "")
    # Every AwsSolutions finding fails synth unless acknowledged, with a reason, where it arises.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    try:
        application = build()
    except DeployChoiceMissing as missing:
        sys.exit(f"error: {missing}")
    application.synth()
