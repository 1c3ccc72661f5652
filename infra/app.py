"""CDK entry point: `make synth` / `make deploy` (cdk.json runs `python -m infra.app`)."""

from __future__ import annotations

import os

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.stack import JubileeStack

# Set here rather than in cdk.json so that tests, `make synth` and `cdk deploy` build the same template.
FEATURE_FLAGS = {
    # Access logs are delivered under a bucket policy, not a legacy ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build(outdir: str | None = None) -> App:
    app = App(outdir=outdir or os.environ.get("CDK_OUTDIR") or "cdk.out", context=FEATURE_FLAGS)
    payments = app.node.try_get_context("payments") or "sandbox"
    JubileeStack(app, app.node.try_get_context("stack") or "Jubilee", payments=payments,
                 campaign=app.node.try_get_context("campaign") or "demo")
    # Every AwsSolutions finding fails synth unless acknowledged, with a reason, where it arises.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build().synth()
