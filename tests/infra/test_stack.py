"""The synthesized stack: built from the wiring table, cdk-nag clean, cfn-lint clean, least privilege."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from infra import topology
from infra.app import build

# What a stack deployed for Stripe serves: everything but the sandbox's checkout.
STRIPE_ROUTES = [r for r in topology.ROUTES if not r.sandbox_only]
EMAIL_DOMAIN = "fund.example"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("cdk.out")
    # As `cdk deploy -c payments=stripe -c email_identity=...` builds it; with AwsSolutionsChecks: an
    # unacknowledged finding raises here
    app = build(str(outdir), context={"payments": "stripe", "email_identity": EMAIL_DOMAIN})
    assembly = app.synth()
    path = Path(outdir) / "Jubilee.template.json"
    return Template.from_json(json.loads(path.read_text())), path, assembly


def resources(template: Template, kind: str) -> dict:
    return template.find_resources(kind)


def test_cfn_lint_finds_nothing(synthesized):
    _, path, _ = synthesized
    matches = lint_file(path, config=ManualArgs(ignore_checks=["W3005"], regions=["us-east-1"]))
    assert [str(m) for m in matches] == []


def test_cdk_nag_is_really_checking():
    app = App()
    stack = Stack(app, "Bad")
    sqs.Queue(stack, "Plain")  # no DLQ, no TLS-only policy: AwsSolutions findings
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(Exception, match="AwsSolutions-SQS3"):
        app.synth()


def test_every_acknowledgement_carries_a_reason(synthesized):
    _, _, assembly = synthesized
    acks = _acknowledgements(assembly)
    assert any("AwsSolutions-SMG4" in rule for rule, _ in acks)
    assert all(len(reason) > 30 for _, reason in acks), [rule for rule, reason in acks if len(reason) <= 30]


def _acknowledgements(assembly) -> list[tuple[str, str]]:
    """(rule, reason) for every acknowledged cdk-nag finding, as CDK records them."""
    metadata = json.loads((Path(assembly.directory) / "Jubilee.metadata.json").read_text())
    return [(rule, reason) for entries in metadata.values() for entry in entries
            if entry["type"] == "aws:cdk:acknowledged-rules" for rule, reason in entry["data"].items()]


def test_the_ledger_table_keeps_its_data(synthesized):
    template, _, _ = synthesized
    template.has_resource("AWS::DynamoDB::Table", {
        "DeletionPolicy": "Retain",
        "Properties": Match.object_like({
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        }),
    })
    template.resource_count_is("AWS::DynamoDB::Table", 1)  # pledges keep no idempotency table (adapters/pledges.py)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_buckets_are_private_encrypted_and_tls_only(synthesized):
    template, _, _ = synthesized
    buckets = resources(template, "AWS::S3::Bucket")
    kms_buckets = [b for b in buckets.values() if "aws:kms" in json.dumps(b["Properties"]["BucketEncryption"])]
    assert len(kms_buckets) == 2
    for bucket in buckets.values():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    policies = json.dumps(resources(template, "AWS::S3::BucketPolicy"))
    assert policies.count('"aws:SecureTransport": "false"') == len(buckets)


def test_each_stage_queue_has_a_dlq_a_tls_policy_and_room_for_its_consumer(synthesized):
    template, _, _ = synthesized
    queues = resources(template, "AWS::SQS::Queue")
    with_redrive = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(with_redrive) == len(topology.QUEUES)
    for queue in with_redrive:
        assert 3 <= queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] <= 5
    assert sorted(q["Properties"]["VisibilityTimeout"] for q in with_redrive) == sorted(
        topology.visibility_timeout_s(q) for q in topology.QUEUES)
    for queue in topology.QUEUES:
        assert topology.visibility_timeout_s(queue) >= 6 * topology.function(queue.consumer).timeout_s
    assert all("KmsMasterKeyId" in q["Properties"] for q in queues.values())
    assert json.dumps(resources(template, "AWS::SQS::QueuePolicy")).count("aws:SecureTransport") == len(queues)


def function_named(template: Template, name: str) -> tuple[str, dict]:
    for logical_id, fn in resources(template, "AWS::Lambda::Function").items():
        if fn["Properties"].get("Description") == f"Jubilee {name}":
            return logical_id, fn
    raise AssertionError(f"no function {name}")


def test_functions_come_from_the_wiring_table_with_powertools(synthesized):
    template, _, _ = synthesized
    ours = [f for f in resources(template, "AWS::Lambda::Function").values()
            if f["Properties"].get("Description", "").startswith("Jubilee ")]
    assert len(ours) == len(topology.FUNCTIONS)  # (besides CDK's own function that copies the site's files)
    for spec in topology.FUNCTIONS:
        _, fn = function_named(template, spec.name)
        props = fn["Properties"]
        assert props["Handler"] == spec.handler and props["Timeout"] == spec.timeout_s
        assert "AWSLambdaPowertoolsPythonV3" in json.dumps(props["Layers"]) and len(props["Layers"]) == 2
        expected = set(topology.environment(spec, dict.fromkeys(
            [topology.LEDGER, topology.OFFERS, topology.LETTERS, topology.APP_SECRET,
             topology.STRIPE_SECRET, topology.LOB_SECRET, topology.PII_KEY, topology.DONOR_KEY], "x"),
            dict.fromkeys([q.stage for q in topology.QUEUES], "u"), "", "stripe", email=topology.LOCAL_EMAIL))
        if spec.name in topology.SITE_LINKED:  # they link to the site, whose URL exists only later
            expected.add("SITE_URL")
        assert set(props["Environment"]["Variables"]) == expected


def policy_actions(template: Template, name: str) -> set[str]:
    logical_id, fn = function_named(template, name)
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    actions: set[str] = set()
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                found = statement["Action"]
                actions |= set(found if isinstance(found, list) else [found])
    return actions


def test_each_function_may_do_only_what_it_uses(synthesized):
    template, _, _ = synthesized
    services = {name: {a.split(":")[0] for a in policy_actions(template, name)} for name in
                (f.name for f in topology.FUNCTIONS)}
    assert services["dispatcher"] == {"logs", "sqs", "kms", "dynamodb"}  # dynamodb: reading its stream
    for relay in ("dispatcher", "relay"):  # write relayed outbox items back whole, nothing else
        written = {a for a in policy_actions(template, relay) if a.startswith(
            ("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete", "dynamodb:BatchWrite", "dynamodb:Transact"))}
        assert written == {"dynamodb:BatchWriteItem"}, relay
    assert services["pool"] == {"logs", "dynamodb", "kms", "sqs"}  # sqs: consuming its queue
    assert not any(a == "sqs:SendMessage" for a in policy_actions(template, "pool"))
    assert "s3" not in services["api"] and "sqs" not in services["api"]
    assert "secretsmanager" in services["forgiveness"] and "secretsmanager" not in services["pool"]
    assert "s3:PutObject" in policy_actions(template, "letters")
    assert "s3:PutObject" not in policy_actions(template, "api")


def test_lobs_secret_is_output_and_read_only_by_the_letters_and_their_tracking_webhook(synthesized):
    template, _, _ = synthesized
    [(secret_id, secret)] = [(k, v) for k, v in resources(template, "AWS::SecretsManager::Secret").items()
                             if "Lob" in v["Properties"].get("Description", "")]
    assert json.loads(secret["Properties"]["SecretString"]) == {"api_key": "", "webhook_secret": ""}
    readers = set()
    for spec in topology.FUNCTIONS:
        role = function_named(template, spec.name)[1]["Properties"]["Role"]["Fn::GetAtt"][0]
        for policy in resources(template, "AWS::IAM::Policy").values():
            if {"Ref": role} in policy["Properties"]["Roles"] and secret_id in json.dumps(policy):
                readers.add(spec.name)
    assert readers == {"letters", "mail_webhook"}
    assert template.find_outputs("LobSecretArn")["LobSecretArn"]["Value"] == {"Ref": secret_id}
    env = function_named(template, "letters")[1]["Properties"]["Environment"]["Variables"]
    assert env["LOB_SECRET_ID"] == {"Ref": secret_id}
    paths = {r["Properties"]["PathPart"] for r in resources(template, "AWS::ApiGateway::Resource").values()}
    assert {"mail", "{service}"} <= paths


def test_only_the_letter_operator_role_it_outputs_may_open_debtor_data_besides_the_letters_function(synthesized):
    template, _, _ = synthesized
    [(role_id, role)] = [(k, v) for k, v in resources(template, "AWS::IAM::Role").items()
                         if "print letter bundles" in v["Properties"].get("Description", "")]
    assert role["Properties"]["MaxSessionDuration"] == 3600
    [key_id] = [k for k, v in resources(template, "AWS::KMS::Key").items()
                if "debtor" in v["Properties"].get("Description", "").lower()]
    decrypting = set()
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "kms:Decrypt" in actions and key_id in json.dumps(statement.get("Resource")):
                decrypting |= {r["Ref"] for r in policy["Properties"]["Roles"]}
    letters_role = function_named(template, "letters")[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert decrypting == {letters_role, role_id}
    assert template.find_outputs("LetterOperatorRoleArn")["LetterOperatorRoleArn"]["Value"] == {
        "Fn::GetAtt": [role_id, "Arn"]}


def key_users(template, description: str) -> dict[str, set[str]]:
    """Which functions' policies name the KMS key so described, with which actions."""
    [key_id] = [k for k, v in resources(template, "AWS::KMS::Key").items()
                if description in v["Properties"].get("Description", "")]
    users: dict[str, set[str]] = {}
    for name in (f.name for f in topology.FUNCTIONS):
        _, fn = function_named(template, name)
        role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        for policy in resources(template, "AWS::IAM::Policy").values():
            if {"Ref": role} in policy["Properties"]["Roles"]:
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    if key_id in json.dumps(statement["Resource"]):
                        actions = statement["Action"]
                        users.setdefault(name, set()).update(actions if isinstance(actions, list) else [actions])
    return users


def test_only_letters_may_open_debtor_data_and_forgiveness_may_only_wrap_a_new_key(synthesized):
    template, _, _ = synthesized
    assert key_users(template, "debtor-data") == {"forgiveness": {"kms:Encrypt"}, "letters": {"kms:Decrypt"}}


def test_only_the_api_may_use_donors_keys_and_only_the_mail_function_may_open_them_besides(synthesized):
    template, _, _ = synthesized
    assert key_users(template, "donor's personal-data") == {"api": {"kms:GenerateDataKey", "kms:Decrypt"},
                                                            "mail_out": {"kms:Decrypt"}}


def test_only_the_mail_function_may_send_email_as_the_stacks_ses_identity_through_its_configuration_set(synthesized):
    template, _, _ = synthesized
    [(identity_id, identity)] = resources(template, "AWS::SES::EmailIdentity").items()
    [config_id] = resources(template, "AWS::SES::ConfigurationSet")
    assert identity["Properties"]["EmailIdentity"] == EMAIL_DOMAIN
    assert identity["Properties"]["ConfigurationSetAttributes"]["ConfigurationSetName"] == {"Ref": config_id}
    template.has_resource_properties("AWS::SES::ConfigurationSet", {
        "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}})
    senders = {name for name in (f.name for f in topology.FUNCTIONS)
               if any(a.startswith("ses:") for a in policy_actions(template, name))}
    assert senders == {"mail_out"}
    _, fn = function_named(template, "mail_out")
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [p["Properties"] for p in resources(template, "AWS::IAM::Policy").values()]
    [statement] = [s for p in policies if {"Ref": role} in p["Roles"] for s in p["PolicyDocument"]["Statement"]
                   if s["Action"] == "ses:SendEmail"]
    identity_arn, config_arn = (arn["Fn::Join"][1] for arn in statement["Resource"])
    assert identity_arn[-2:] == [":identity/", {"Ref": identity_id}]
    assert config_arn[-2:] == [":configuration-set/", {"Ref": config_id}]
    assert statement["Condition"] == {"StringLike": {"ses:FromAddress": f"*@{EMAIL_DOMAIN}"}}
    variables = fn["Properties"]["Environment"]["Variables"]
    assert variables["EMAIL_IDENTITY"] == EMAIL_DOMAIN and variables["EMAIL_CONFIGURATION_SET"] == {"Ref": config_id}
    assert template.find_outputs("EmailIdentity")["EmailIdentity"]["Value"] == EMAIL_DOMAIN


def test_consumers_report_partial_batch_failures_and_the_dispatcher_sees_only_outbox_items(synthesized):
    template, _, _ = synthesized
    mappings = resources(template, "AWS::Lambda::EventSourceMapping").values()
    assert len(mappings) == len(topology.QUEUES) + 1
    assert all(m["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)
    [stream] = [m for m in mappings if "FilterCriteria" in m["Properties"]]
    pattern = json.loads(stream["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"])
    assert pattern == topology.OUTBOX_FILTER
    assert "OnFailure" in stream["Properties"]["DestinationConfig"]


def test_each_queue_consumer_runs_at_most_the_wiring_tables_concurrency(synthesized):
    template, _, _ = synthesized
    mappings = resources(template, "AWS::Lambda::EventSourceMapping").values()
    for queue in topology.QUEUES:
        logical_id, _ = function_named(template, queue.consumer)
        [mapping] = [m["Properties"] for m in mappings if m["Properties"]["FunctionName"] == {"Ref": logical_id}]
        assert 2 <= queue.max_concurrency == mapping["ScalingConfig"]["MaximumConcurrency"]


def test_every_function_that_writes_links_points_them_at_the_site(synthesized):
    """A letter's "check this letter at .../verify/CODE" must name the deployed site, not a bare path."""
    template, _, _ = synthesized
    [site] = resources(template, "AWS::CloudFront::Distribution")
    site_url = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [site, "DomainName"]}, "/"]]}
    for name in ("letters", "api", "webhook"):
        variables = function_named(template, name)[1]["Properties"]["Environment"]["Variables"]
        assert variables["SITE_URL"] == site_url, name
    for name in ("api", "webhook"):  # checkout links and webhooks' pages also name the API itself
        assert function_named(template, name)[1]["Properties"]["Environment"]["Variables"]["PUBLIC_BASE_URL"] != ""


def test_the_api_has_the_wiring_tables_routes_throttling_and_access_logs(synthesized):
    template, _, _ = synthesized
    methods = resources(template, "AWS::ApiGateway::Method")
    assert sorted(m["Properties"]["HttpMethod"] for m in methods.values()) == sorted(r.method for r in STRIPE_ROUTES)
    template.has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": "prod",
        "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
        "MethodSettings": Match.array_with([Match.object_like({
            "ThrottlingRateLimit": topology.STAGE_RATE_PER_S, "ThrottlingBurstLimit": 2 * topology.STAGE_RATE_PER_S})]),
    })
    paths = {r.path.strip("/").split("/")[-1] for r in STRIPE_ROUTES}
    parts = {r["Properties"]["PathPart"] for r in resources(template, "AWS::ApiGateway::Resource").values()}
    assert paths <= parts


def test_waiting_outbox_items_are_indexed_and_the_relay_looks_for_them_every_five_minutes(synthesized):
    from functions.adapters import dynamo

    template, _, _ = synthesized
    template.has_resource_properties("AWS::DynamoDB::Table", {
        "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
        "GlobalSecondaryIndexes": Match.array_with([{
            "IndexName": dynamo.OUTBOX_INDEX, "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": dynamo.OUTBOX_SHARD, "KeyType": "HASH"},
                          {"AttributeName": dynamo.OUTBOX_AT, "KeyType": "RANGE"}]}]),
    })
    relay_id, _ = function_named(template, "relay")
    template.has_resource_properties("AWS::Events::Rule", {
        "ScheduleExpression": "rate(5 minutes)",
        "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [relay_id, "Arn"]}})]})
    assert "dynamodb:Query" in policy_actions(template, "relay")


def test_every_dlq_and_every_function_has_an_alarm(synthesized):
    template, _, _ = synthesized
    alarms = list(resources(template, "AWS::CloudWatch::Alarm").values())
    dlq_alarms = [a for a in alarms if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"]
    error_alarms = [a for a in alarms if a["Properties"].get("MetricName") == "Errors"]
    assert len(dlq_alarms) == len(topology.QUEUES) + 1  # + the dispatcher's failure queue
    assert len(error_alarms) == len(topology.FUNCTIONS)
    assert any(a["Properties"].get("MetricName") == "LedgerDrift" for a in alarms)
    [shortfall] = [a for a in alarms if a["Properties"].get("MetricName") == "ShortfallCents"]
    assert shortfall["Properties"]["Dimensions"] == [{"Name": "service", "Value": "jubilee-pool"}]
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(1 hour)"})


def test_only_the_functions_code_and_their_dependencies_are_shipped(synthesized):
    _, path, _ = synthesized
    assets = {sorted(p.name for p in a.iterdir())[0]: a for a in path.parent.iterdir()
              if a.name.startswith("asset.") and a.is_dir()}
    site_files = assets.pop("assets")  # the public site: its pages and their assets, nothing else
    assert sorted(p.name for p in site_files.iterdir()) == ["assets", "donate.html", "index.html"]
    config = assets.pop("config.js")  # made at synth, the API's URL filled in at deploy time
    assert [p.name for p in config.iterdir()] == ["config.js"]
    assets.pop("index.py")  # CDK's own BucketDeployment handler
    assert sorted(assets) == ["functions", "python"]
    assert sorted(p.name for p in assets["functions"].iterdir()) == ["functions"]
    shipped = {p.name for p in (assets["python"] / "python").iterdir()}
    assert {"stripe", "cryptography", "pydantic", "pydantic_core"} <= shipped
    native = (assets["python"] / "python" / "pydantic_core").iterdir()
    assert any(p.name.endswith("x86_64-linux-gnu.so") for p in native)


def test_a_stack_deployed_for_stripe_has_no_sandbox_routes(synthesized):
    template, _, _ = synthesized
    parts = {r["Properties"]["PathPart"] for r in resources(template, "AWS::ApiGateway::Resource").values()}
    assert "sandbox" not in parts and "checkout" not in parts
    assert "sandbox" not in json.dumps(resources(template, "AWS::ApiGateway::Method"))
    for name in ("api", "webhook"):  # and the functions refuse the sandbox provider
        variables = function_named(template, name)[1]["Properties"]["Environment"]["Variables"]
        assert variables["PAYMENTS_PROVIDER"] == "stripe"


def test_only_a_sandbox_stack_serves_the_sandbox_checkout():
    from infra.stack import JubileeStack

    stack = JubileeStack(App(), "Trial", payments="sandbox")
    template = Template.from_stack(stack)
    assert len(template.find_resources("AWS::ApiGateway::Method")) == len(topology.ROUTES)
    paths = {r["Properties"]["PathPart"] for r in template.find_resources("AWS::ApiGateway::Resource").values()}
    assert "sandbox" in paths
    variables = function_named(template, "api")[1]["Properties"]["Environment"]["Variables"]
    assert variables["PAYMENTS_PROVIDER"] == "sandbox"
    # Made without -c email_identity: no SES, and the mail function may send nothing (it is told nothing).
    assert not template.find_resources("AWS::SES::EmailIdentity") and "ses:SendEmail" not in json.dumps(
        template.find_resources("AWS::IAM::Policy"))
    assert "EMAIL_IDENTITY" not in function_named(template, "mail_out")[1]["Properties"]["Environment"]["Variables"]


@pytest.mark.parametrize("context", [{}, {"payments": "paypal"}, {"payments": ""}])
def test_a_deployment_must_choose_stripe_or_sandbox_and_is_told_how(context):
    from infra.app import DeployChoiceMissing

    with pytest.raises(DeployChoiceMissing, match=r"-c payments=stripe .*-c payments=sandbox"):
        build(context=context)


def test_admin_routes_are_iam_authorized_and_the_rest_public(synthesized):
    template, _, _ = synthesized
    methods = resources(template, "AWS::ApiGateway::Method").values()
    kinds = sorted(m["Properties"]["AuthorizationType"] for m in methods)
    assert kinds.count("AWS_IAM") == len([r for r in topology.ROUTES if r.iam_auth]) == 6  # plans and expenses
    assert kinds.count("NONE") == len([r for r in STRIPE_ROUTES if not r.iam_auth])
    assert not any(a.startswith(("sqs:Send", "s3:", "secretsmanager:")) for a in policy_actions(template, "admin"))


def test_letter_checks_are_throttled_harder_than_the_stage(synthesized):
    template, _, _ = synthesized
    [stage] = resources(template, "AWS::ApiGateway::Stage").values()
    settings = {s.get("ResourcePath"): s for s in stage["Properties"]["MethodSettings"]}
    verify = settings["/~1verify~1{code}"]
    assert (verify["HttpMethod"], verify["ThrottlingRateLimit"]) == ("GET", 5)


def test_the_payment_webhooks_and_pledges_have_limits_of_their_own_sized_for_the_peak(synthesized):
    """Donors' traffic cannot starve the providers' events; neither caps gifts below the planned peak."""
    template, _, _ = synthesized
    [stage] = resources(template, "AWS::ApiGateway::Stage").values()
    settings = {s.get("ResourcePath"): s for s in stage["Properties"]["MethodSettings"]}
    webhook, pledge = settings["/~1webhooks~1{provider}"], settings["/~1campaigns~1{campaign_id}~1donations"]
    assert (webhook["HttpMethod"], pledge["HttpMethod"]) == ("POST", "POST")
    assert webhook["ThrottlingRateLimit"] >= 2 * topology.PEAK_GIFTS_PER_S <= pledge["ThrottlingRateLimit"]
    assert webhook["ThrottlingBurstLimit"] == 2 * webhook["ThrottlingRateLimit"]


def test_gifts_are_pooled_in_large_batches_gathered_over_a_window(synthesized):
    template, _, _ = synthesized
    [donations] = [q for q in topology.QUEUES if q.stage == "donations"]
    logical_id, _ = function_named(template, "pool")
    [mapping] = [m["Properties"] for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
                 if m["Properties"]["FunctionName"] == {"Ref": logical_id}]
    assert mapping["BatchSize"] == donations.batch_size
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["MaximumBatchingWindowInSeconds"] == donations.batching_window_s >= 1


def test_the_site_bucket_is_private_and_only_cloudfront_reads_it(synthesized):
    template, _, _ = synthesized
    [(bucket_id, bucket)] = [(k, v) for k, v in resources(template, "AWS::S3::Bucket").items() if k.startswith("Site")]
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    [policy] = [v for v in resources(template, "AWS::S3::BucketPolicy").values()
                if v["Properties"]["Bucket"] == {"Ref": bucket_id}]
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"]) for s in allows] == [({"Service": "cloudfront.amazonaws.com"},
                                                                "s3:GetObject")]
    assert "AWS:SourceArn" in allows[0]["Condition"]["StringEquals"]  # this distribution only


def test_cloudfront_serves_the_site_over_https_through_origin_access_control(synthesized):
    template, _, _ = synthesized
    [(oac_id, oac)] = resources(template, "AWS::CloudFront::OriginAccessControl").items()
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    [distribution] = resources(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
    s3_origins = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert [o["OriginAccessControlId"] for o in s3_origins] == [{"Fn::GetAtt": [oac_id, "Id"]}]
    api = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert sorted(api) == topology.site_api_paths() and "/webhooks/*" not in api and "/admin/*" not in api
    assert all(b["ViewerProtocolPolicy"] == "https-only" for b in api.values())


def test_the_site_headers_are_the_ones_jubilee_serve_sends(synthesized):
    from infra import site

    template, _, _ = synthesized
    [policy] = resources(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert csp == site.SECURITY_HEADERS["Content-Security-Policy"]
    assert security["FrameOptions"]["FrameOption"] == site.SECURITY_HEADERS["X-Frame-Options"]
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == site.SECURITY_HEADERS["Referrer-Policy"]
    hsts = site.SECURITY_HEADERS["Strict-Transport-Security"]
    assert f"max-age={security['StrictTransportSecurity']['AccessControlMaxAgeSec']}" in hsts
    assert config["CustomHeadersConfig"]["Items"] == [
        {"Header": "Permissions-Policy", "Value": site.SECURITY_HEADERS["Permissions-Policy"], "Override": True}]


def test_the_pages_and_a_config_naming_the_api_are_deployed_with_the_stack(synthesized):
    template, _, _ = synthesized
    [deployment] = resources(template, "Custom::CDKBucketDeployment").values()
    properties = deployment["Properties"]
    assert len(properties["SourceObjectKeys"]) == 2  # site/ and config.js
    markers = json.dumps(properties["SourceMarkers"])
    assert '"Ref": "Api' in markers  # config.js carries the API's URL, resolved at deploy time
    assert properties["DistributionPaths"] == ["/*"]
    assert "SiteUrl" in template.to_json()["Outputs"]


def test_the_ledger_has_its_posting_index_and_the_sweep_runs_hourly_apart_from_the_reconcile(synthesized):
    template, _, _ = synthesized
    template.has_resource_properties("AWS::DynamoDB::Table", {"GlobalSecondaryIndexes": Match.array_with([{
        "IndexName": "by_posting", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                 {"AttributeName": "posted_at", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["legs", "provider", "payment_id"]}}])})
    scheduled = {rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]: rule["Properties"]["ScheduleExpression"]
                 for rule in resources(template, "AWS::Events::Rule").values()
                 if "ScheduleExpression" in rule["Properties"]}
    for name in ("reconcile", "sweep"):
        assert scheduled[function_named(template, name)[0]] == "rate(1 hour)"
    assert {a.split(":")[0] for a in policy_actions(template, "sweep")} == {"logs", "dynamodb", "kms", "s3"}
    assert "s3:DeleteObject*" in policy_actions(template, "sweep") and "s3:PutObject" not in policy_actions(
        template, "reconcile")
    [unpooled] = [a for a in resources(template, "AWS::CloudWatch::Alarm").values()
                  if a["Properties"].get("MetricName") == "UnpooledGifts"]
    assert unpooled["Properties"]["Dimensions"] == [{"Name": "service", "Value": "jubilee-reconcile"}]
