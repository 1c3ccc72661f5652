"""The deployable stack, built from the wiring table (infra/topology.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Aws,
    CfnElement,
    CfnOutput,
    Duration,
    RemovalPolicy,
    SecretValue,
    Stack,
    Validations,
)
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from functions.adapters import dynamo
from functions.domain.campaigns import PROVIDERS
from infra import site, topology
from infra.layer import build_layer

ROOT = Path(__file__).resolve().parent.parent
# Powertools from its public layer, pinned; its runtime and ours must match.
RUNTIME = lambda_.Runtime.PYTHON_3_13
POWERTOOLS_LAYER = "arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:27"
# Ship only functions/ (the three layers); tests, infra and tooling stay out of the bundle.
STAGE = "prod"
ASSET_EXCLUDES = ["*", ".*", "!functions", "!functions/**", "**/__pycache__", "**/*.pyc"]


def acknowledge(scope: IConstruct | None, rule: str, reason: str) -> None:
    if scope is None:  # e.g. a function's role, which every function here is given
        raise ValueError(f"nothing to acknowledge {rule} on")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


class JubileeStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, payments: str, campaign: str = "demo",
                 email_identity: str = "", **kwargs: Any) -> None:
        """`payments`: the deployment's provider. Only a "sandbox" stack has the sandbox's checkout routes.
        `email_identity`: the SES domain (or one address) campaigns email donors from; "" sends no email."""
        if payments not in PROVIDERS:
            raise ValueError(f"payments must be one of {', '.join(PROVIDERS)}, not {payments!r}")
        super().__init__(scope, construct_id, description="Jubilee: pooled donations that buy and forgive debt",
                         **kwargs)
        self.key = kms.Key(self, "CampaignKey", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                           description="The campaign's own key: ledger, buckets, queues, secret")
        # Debtors' data has a key of its own, which only the forgiveness and letters functions may use.
        self.pii_key = kms.Key(self, "DebtorDataKey", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                               description="Wraps each bought portfolio's debtor-data key")
        # Donors' names and emails: one data key per donor under this key, destroyed to erase them.
        self.donor_key = kms.Key(self, "DonorDataKey", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                                 description="Wraps each donor's personal-data key")
        self._tables()
        self._buckets()
        self.secret = secretsmanager.Secret(
            self, "AppSecret", encryption_key=self.key, description="Jubilee signing and hashing secret",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=64))
        acknowledge(self.secret, "AwsSolutions-SMG4",
                    "Account hashes and letter codes derive from this secret; rotating it would change published "
                    "hashes, so it is rotated by a documented re-key, not on a schedule.")
        # Outside services' keys and webhook secrets: the operator puts them in after deploy (README).
        self.stripe_secret = self._service_secret("Stripe", {"api_key": "", "webhook_secrets": "[]"},
                                                  "webhook secrets hold old and new during a roll.")
        self.lob_secret = self._service_secret("Lob", {"api_key": "", "webhook_secret": ""},
                                               "Lob's webhook secret is rolled the same way.")
        self._queues()
        self._email(email_identity)
        self._functions(payments)
        self._letter_operator()
        self._wire_events()
        self._api(payments)
        self._site(campaign)
        self._alarms()
        self._outputs()

    # --- storage --------------------------------------------------------------------------

    def _tables(self) -> None:
        common: dict[str, Any] = dict(billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                      encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=self.key,
                      point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                          point_in_time_recovery_enabled=True))
        self.ledger = dynamodb.Table(
            self, "Ledger", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            stream=dynamodb.StreamViewType.NEW_IMAGE, time_to_live_attribute="expires_at",
            removal_policy=RemovalPolicy.RETAIN, deletion_protection=True, **common)
        self.ledger.add_global_secondary_index(  # sparse: outbox items not yet relayed (adapters/outbox.py)
            index_name=dynamo.OUTBOX_INDEX,
            partition_key=dynamodb.Attribute(name=dynamo.OUTBOX_SHARD, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=dynamo.OUTBOX_AT, type=dynamodb.AttributeType.NUMBER))
        for index in topology.LEDGER_INDEXES:
            self.ledger.add_global_secondary_index(
                index_name=index.name, partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=index.sort_key, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.INCLUDE, non_key_attributes=list(index.projected))

    def _buckets(self) -> None:
        self.access_logs = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))], removal_policy=RemovalPolicy.RETAIN)
        acknowledge(self.access_logs, "AwsSolutions-S1", "This is the access-log bucket; logging it would recurse.")

        def data_bucket(name: str) -> s3.Bucket:
            return s3.Bucket(self, name, encryption=s3.BucketEncryption.KMS, encryption_key=self.key,
                             bucket_key_enabled=True, enforce_ssl=True,
                             block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                             server_access_logs_bucket=self.access_logs, server_access_logs_prefix=f"{name.lower()}/",
                             removal_policy=RemovalPolicy.RETAIN)

        self.buckets = {topology.OFFERS: data_bucket("Offers"), topology.LETTERS: data_bucket("Letters")}

    def _queues(self) -> None:
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        common: dict[str, Any] = dict(encryption=sqs.QueueEncryption.KMS, encryption_master_key=self.key,
                                      enforce_ssl=True)
        for queue in topology.QUEUES:
            dlq = sqs.Queue(self, f"{queue.stage.title()}Dlq", retention_period=Duration.days(14), **common)
            self.dlqs[queue.stage] = dlq
            self.queues[queue.stage] = sqs.Queue(
                self, f"{queue.stage.title()}Queue",
                visibility_timeout=Duration.seconds(topology.visibility_timeout_s(queue)),
                dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=queue.max_receives, queue=dlq), **common)
        # Stream batches the dispatcher could not relay after its retries.
        self.dlqs["outbox"] = sqs.Queue(self, "OutboxDlq", retention_period=Duration.days(14), **common)
        acknowledge(self.dlqs["outbox"], "AwsSolutions-SQS3",
                    "It is a dead-letter queue: the on-failure destination of the dispatcher's stream mapping.")

    # --- functions --------------------------------------------------------------------------

    def _functions(self, payments: str) -> None:
        layer = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools",
                                                            POWERTOOLS_LAYER.format(region=Aws.REGION))
        dependencies = lambda_.LayerVersion(
            self, "Dependencies",
            code=lambda_.Code.from_asset(str(build_layer()), exclude=["**/__pycache__", "bin", ".*"]),
            compatible_runtimes=[RUNTIME],
            description="stripe, lob-python, cryptography, pydantic (functions/requirements.txt)")
        code = lambda_.Code.from_asset(str(ROOT), exclude=ASSET_EXCLUDES)
        self.names = names = {
                 topology.LEDGER: self.ledger.table_name,
                 topology.OFFERS: self.buckets[topology.OFFERS].bucket_name,
                 topology.LETTERS: self.buckets[topology.LETTERS].bucket_name,
                 topology.APP_SECRET: self.secret.secret_arn,
                 topology.STRIPE_SECRET: self.stripe_secret.secret_arn, topology.LOB_SECRET: self.lob_secret.secret_arn,
                 topology.PII_KEY: self.pii_key.key_arn,
                 topology.DONOR_KEY: self.donor_key.key_arn}
        queue_urls = {stage: q.queue_url for stage, q in self.queues.items()}
        self.functions: dict[str, lambda_.Function] = {}
        for fn in topology.FUNCTIONS:
            log_group = logs.LogGroup(self, f"{fn.name.title()}Logs", retention=logs.RetentionDays.ONE_MONTH,
                                      removal_policy=RemovalPolicy.DESTROY)
            # Our own role: only its log group, nothing from a managed policy.
            role = iam.Role(self, f"{fn.name.title()}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
            role.add_to_policy(iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                                   resources=[log_group.log_group_arn]))
            env = topology.environment(fn, names, queue_urls, public_base_url="", payments=payments,
                                       email=self.email_env)
            function = lambda_.Function(
                self, f"{fn.name.title()}Function", runtime=RUNTIME, handler=fn.handler, code=code,
                layers=[layer, dependencies],
                memory_size=fn.memory_mb, timeout=Duration.seconds(fn.timeout_s), environment=env, role=role,
                log_group=log_group, architecture=lambda_.Architecture.X86_64,
                description=f"Jubilee {fn.name}")
            self._grant(function, fn)
            self.functions[fn.name] = function

    def _grant(self, function: lambda_.Function, fn: topology.Function) -> None:
        for grant in fn.grants:
            resource, access = grant.split(":", 1)
            if resource == topology.LEDGER:
                table = self.ledger
                if access == "relay":  # query the waiting outbox index, write relayed items back
                    table.grant(function, "dynamodb:Query", "dynamodb:BatchWriteItem")
                    self.key.grant_encrypt_decrypt(function)
                    continue
                (table.grant_read_write_data if access == "write" else table.grant_read_data)(function)
            elif resource in self.buckets:
                bucket = self.buckets[resource]
                (bucket.grant_read_write if access == "write" else bucket.grant_read)(function)
            elif resource == "secret":
                self.secret.grant_read(function)
            elif resource == topology.STRIPE_SECRET:
                self.stripe_secret.grant_read(function)
            elif resource == topology.LOB_SECRET:
                self.lob_secret.grant_read(function)
            elif resource == topology.PII_KEY:  # seal: wrap a portfolio's new private key; open: unwrap it
                self.pii_key.grant(function, "kms:Encrypt" if access == "seal" else "kms:Decrypt")
            elif resource == topology.DONOR_KEY:  # use: make a donor's key, or open it to seal another gift
                self.donor_key.grant(function, *(("kms:Decrypt",) if access == "open" else
                                                 ("kms:GenerateDataKey", "kms:Decrypt")))
            elif resource == "email":  # send as the deployment's identity, through its configuration set, only
                if self.email_grant is not None:
                    function.add_to_role_policy(self.email_grant)
            elif resource == "send":
                self.queues[access].grant_send_messages(function)
            else:
                raise ValueError(f"unknown grant {grant!r} for {fn.name}")
        reason = ("Wildcards generated by CDK grant helpers, scoped to this stack's own key, table and buckets: "
                  "KMS data-key variants, the ledger table's indexes and object keys inside one bucket.")
        for finding in ("Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*", "Action::s3:GetObject*",
                        "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
                        f"Resource::<{self._logical_id(self.ledger)}.Arn>/index/*",
                        *(f"Resource::<{self._logical_id(b)}.Arn>/*"
                          for b in self.buckets.values())):
            acknowledge(function.role, f"AwsSolutions-IAM5[{finding}]", reason)
        acknowledge(function, "AwsSolutions-L1",
                    "Pinned to Python 3.13, the newest runtime the pinned Powertools layer is published for.")

    def _email(self, identity: str) -> None:
        """SES for campaigns that email their donors: the identity (a domain: publish the DKIM records SES
        shows; an address: SES mails it a link to click) and a configuration set that stops sending to
        addresses that bounced or complained. Without an identity, nothing: the mail function sends nothing."""
        self.email_env: dict[str, str] = {}
        self.email_grant: iam.PolicyStatement | None = None
        if not identity:
            return
        config = ses.ConfigurationSet(self, "EmailConfigurationSet", sending_enabled=True, reputation_metrics=True,
                                      suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS)
        made = ses.EmailIdentity(self, "SesIdentity", configuration_set=config, identity=(
            ses.Identity.email(identity) if "@" in identity else ses.Identity.domain(identity)))
        self.email_env = {topology.EMAIL_IDENTITY: identity,
                          topology.EMAIL_CONFIGURATION_SET: config.configuration_set_name}
        self.email_grant = iam.PolicyStatement(
            actions=["ses:SendEmail"],
            resources=[made.email_identity_arn, self.format_arn(service="ses", resource="configuration-set",
                                                                resource_name=config.configuration_set_name)],
            conditions={"StringLike": {"ses:FromAddress": identity if "@" in identity else f"*@{identity}"}})

    def _service_secret(self, service: str, fields: dict[str, str], rolled: str) -> secretsmanager.Secret:
        words = "API key and webhook secrets" if service == "Stripe" else "API key and webhook secret"
        secret = secretsmanager.Secret(
            self, f"{service}Secret", encryption_key=self.key, description=f"Jubilee: {service} {words}",
            secret_object_value={k: SecretValue.unsafe_plain_text(v) for k, v in fields.items()})
        acknowledge(secret, "AwsSolutions-SMG4",
                    f"{service} keys are rolled in {service}'s dashboard, which Secrets Manager cannot drive; the "
                    f"operator writes the new key here, and {rolled}")
        return secret

    def _letter_operator(self) -> None:
        """The role an operator assumes to open a print bundle (`jubilee letters export`): with the letters
        function, the only holder of kms:Decrypt on the debtors' key. Nobody has it without assuming it."""
        role = iam.Role(self, "LetterOperatorRole", assumed_by=iam.AccountRootPrincipal(),
                        max_session_duration=Duration.hours(1),
                        description="Jubilee: print letter bundles (opens debtors' sealed data)")
        self.pii_key.grant(role, "kms:Decrypt")
        self.ledger.grant_read_write_data(role)
        acknowledge(role, f"AwsSolutions-IAM5[Resource::<{self._logical_id(self.ledger)}.Arn>/index/*]",
                    "The grant helper's wildcard over the ledger table's own indexes.")
        for action in ("GenerateDataKey*", "ReEncrypt*"):
            acknowledge(role, f"AwsSolutions-IAM5[Action::kms:{action}]",
                        "The grant helper's KMS data-key variants, on the campaign's own table key.")
        self.letter_operator = role

    def _wire_events(self) -> None:
        for queue in topology.QUEUES:
            self.functions[queue.consumer].add_event_source(sources.SqsEventSource(
                self.queues[queue.stage], batch_size=queue.batch_size, report_batch_item_failures=True,
                max_batching_window=Duration.seconds(queue.batching_window_s) if queue.batch_size > 1 else None,
                max_concurrency=queue.max_concurrency))
        outbox_filter = topology.OUTBOX_FILTER
        self.functions[topology.STREAM_CONSUMER].add_event_source(sources.DynamoEventSource(
            self.ledger, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=topology.STREAM_BATCH_SIZE,
            retry_attempts=topology.STREAM_RETRIES, bisect_batch_on_error=True, report_batch_item_failures=True,
            on_failure=sources.SqsDlq(self.dlqs["outbox"]),
            filters=[lambda_.FilterCriteria.filter({
                "eventName": lambda_.FilterRule.is_equal(outbox_filter["eventName"][0]),
                "dynamodb": {"NewImage": {"kind": {"S": lambda_.FilterRule.is_equal(
                    outbox_filter["dynamodb"]["NewImage"]["kind"]["S"][0])}}}})]))
        acknowledge(self.functions[topology.STREAM_CONSUMER].role, "AwsSolutions-IAM5[Resource::*]",
                    "dynamodb:ListStreams, added by the stream event source, takes no resource narrower than *.")
        for schedule in topology.SCHEDULES:
            events.Rule(self, f"{schedule.function.title()}Schedule",
                        schedule=events.Schedule.rate(Duration.minutes(schedule.every_minutes)),
                        targets=[targets.LambdaFunction(self.functions[schedule.function])])

    # --- API --------------------------------------------------------------------------------

    def _api(self, payments: str) -> None:
        access_logs = logs.LogGroup(self, "ApiAccessLogs", retention=logs.RetentionDays.THREE_MONTHS,
                                    removal_policy=RemovalPolicy.DESTROY)
        api = apigw.RestApi(
            self, "Api", rest_api_name=f"{Aws.STACK_NAME}-api", cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE, throttling_rate_limit=topology.STAGE_RATE_PER_S,
                throttling_burst_limit=2 * topology.STAGE_RATE_PER_S,
                method_options={f"{r.path}/{r.method}": apigw.MethodDeploymentOptions(
                    throttling_rate_limit=r.throttle_per_second, throttling_burst_limit=2 * r.throttle_per_second)
                    for r in topology.ROUTES if r.throttle_per_second},
                logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=False, protocol=True, request_time=True, resource_path=True,
                    response_length=True, status=True, user=False)))
        validator = api.add_request_validator("Validator", validate_request_body=True, validate_request_parameters=True)
        integrations = {name: apigw.LambdaIntegration(self.functions[name])
                        for name in {r.function for r in topology.ROUTES}}
        for route in topology.ROUTES:
            if route.sandbox_only and payments != "sandbox":
                continue
            resource = api.root.resource_for_path(route.path)
            if route.iam_auth:  # approvers sign with their AWS credentials; the caller's ARN is who approved
                method = resource.add_method(route.method, integrations[route.function], request_validator=validator,
                                             authorization_type=apigw.AuthorizationType.IAM)
                acknowledge(method, "AwsSolutions-COG4", "IAM authorization: approvers are IAM identities.")
                continue
            method = resource.add_method(route.method, integrations[route.function], request_validator=validator)
            acknowledge(method, "AwsSolutions-APIG4",
                        "Public by design: donors, the public and payment providers (who sign their webhooks) call it.")
            acknowledge(method, "AwsSolutions-COG4", "No user pools: donors give without accounts.")
        self.rest_api = api
        # Checkout links must point at this API; the URL exists only once the API does.
        # Built from the API's id, not api.url, which would make the functions depend on their own stage.
        base_url = f"https://{api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/{STAGE}"
        for name in ("api", "webhook"):
            self.functions[name].add_environment("PUBLIC_BASE_URL", base_url)
        acknowledge(api.deployment_stage, "AwsSolutions-APIG3",
                    "No WAF by default (cost at rest); stage throttling bounds abuse. Add a WebACL for production.")
        acknowledge(api, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                         "AmazonAPIGatewayPushToCloudWatchLogs]",
                    "The account-level role API Gateway needs to write its logs; AWS's managed policy is the norm.")

    # --- the public site ----------------------------------------------------------------------

    def _site(self, campaign: str) -> None:
        """site/ in a private bucket behind CloudFront (origin access control), with the public API
        routes on the same distribution, so the pages call nothing but their own origin."""
        bucket = s3.Bucket(self, "Site", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
                           block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                           server_access_logs_bucket=self.access_logs,
                           server_access_logs_prefix="site/", removal_policy=RemovalPolicy.RETAIN)
        headers = site.SECURITY_HEADERS
        policy = cloudfront.ResponseHeadersPolicy(
            self, "SiteHeaders", comment="Jubilee's pages: their own origin only (infra/site.py)",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=headers["Content-Security-Policy"], override=True),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(63_072_000), include_subdomains=True, override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True)),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(custom_headers=[
                cloudfront.ResponseCustomHeader(header="Permissions-Policy", value=headers["Permissions-Policy"],
                                                override=True)]))
        # The API's domain from its id (not RestApiOrigin, which names the stage): the functions may
        # then be told the site's URL without a dependency cycle through the API's deployment.
        api_domain = f"{self.rest_api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
        api = cloudfront.BehaviorOptions(
            origin=origins.HttpOrigin(api_domain, origin_path=f"/{STAGE}",
                                      protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL, cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=policy)
        distribution = cloudfront.Distribution(
            self, "SiteDistribution", comment="Jubilee: the campaign's public site and API",
            default_root_object="index.html", price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED, response_headers_policy=policy),
            additional_behaviors={pattern: api for pattern in topology.site_api_paths()})
        acknowledge(distribution, "AwsSolutions-CFR1", "A campaign takes gifts and letters' checks from anywhere.")
        acknowledge(distribution, "AwsSolutions-CFR2",
                    "No WAF by default (cost at rest); API Gateway throttles the API behind it. "
                    "Add a WebACL for production.")
        acknowledge(distribution, "AwsSolutions-CFR3",
                    "No viewer logs by design: they would hold every donor's and debtor's IP address (data policy).")
        acknowledge(distribution, "AwsSolutions-CFR4",
                    "The default *.cloudfront.net certificate; with a custom domain, set TLSv1.2_2021 as the minimum.")
        # The pages, and config.js telling them which campaign and where the API is, made at deploy time.
        s3deploy.BucketDeployment(
            self, "SiteFiles", destination_bucket=bucket, distribution=distribution, distribution_paths=["/*"],
            sources=[s3deploy.Source.asset(str(site.SITE)),
                     s3deploy.Source.data(site.CONFIG, site.config_js("", campaign, self.rest_api.url))])
        # CDK's own deployment function (a singleton of the stack): acknowledged there, and only there.
        copier = next(c for c in self.node.children if c.node.id.startswith("Custom::CDKBucketDeployment"))
        copies = "CDK's BucketDeployment copies the site's files from CDK's asset bucket into the site bucket"
        for finding, reason in (
                ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                 "CDK's BucketDeployment function logs with AWS's basic execution policy."),
                ("AwsSolutions-L1", "CDK's BucketDeployment function: its runtime is CDK's choice."),
                *((f"AwsSolutions-IAM5[Action::s3:{action}]", f"{copies}: the grant helpers' object actions.")
                  for action in ("GetObject*", "GetBucket*", "List*", "DeleteObject*", "Abort*")),
                (f"AwsSolutions-IAM5[Resource::<{self._logical_id(bucket)}.Arn>/*]",
                 f"{copies}: any object of the site bucket."),
                ("AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
                 "<AWS::Region>/*]", f"{copies}: the asset is an object of CDK's bootstrap bucket."),
                ("AwsSolutions-IAM5[Resource::*]", "cloudfront:CreateInvalidation takes no narrower resource.")):
            acknowledge(copier, finding, reason)
        self.site_url = f"https://{distribution.distribution_domain_name}/"
        for name in topology.SITE_LINKED:  # checkouts send donors back to the site; letters link to /verify on it
            self.functions[name].add_environment("SITE_URL", self.site_url)

    # --- alarms and outputs -------------------------------------------------------------------

    def _logical_id(self, construct: IConstruct) -> str:
        """The CloudFormation id of an L2 construct's resource (cdk-nag names findings by it)."""
        child = construct.node.default_child
        if not isinstance(child, CfnElement):
            raise TypeError(f"{construct.node.path} has no CloudFormation resource of its own")
        return self.get_logical_id(child)

    def _alarm(self, construct_id: str, metric: cloudwatch.Metric, description: str) -> None:
        """Any datapoint above zero is a page: each of these should never happen."""
        metric.create_alarm(self, construct_id, threshold=0, evaluation_periods=1, alarm_description=description,
                            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)

    def _alarms(self) -> None:
        for stage, dlq in self.dlqs.items():
            self._alarm(f"{stage.title()}DlqAlarm", dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1)),
                f"Messages in the {stage} dead-letter queue: redrive with `jubilee dlq redrive`")
        for name, function in self.functions.items():
            self._alarm(f"{name.title()}ErrorsAlarm", function.metric_errors(period=Duration.minutes(5)),
                        f"The {name} function failed")
        for alarm in topology.METRIC_ALARMS:
            emitter = topology.function(alarm.function)  # a name the table no longer has fails the synth
            self._alarm(alarm.construct_id, cloudwatch.Metric(
                namespace=topology.METRIC_NAMESPACE, metric_name=alarm.metric,
                dimensions_map={"service": topology.service_name(emitter.name)},
                statistic=alarm.statistic, period=Duration.minutes(alarm.period_minutes)), alarm.description)

    def _outputs(self) -> None:
        outputs = {r.output: self.names[r.name] for r in topology.RESOURCES}  # as `jubilee --stack` reads them
        outputs |= {"ApiUrl": self.rest_api.url, "SiteUrl": self.site_url,
                    "LetterOperatorRoleArn": self.letter_operator.role_arn}
        outputs |= {"EmailIdentity": self.email_env[topology.EMAIL_IDENTITY]} if self.email_env else {}
        outputs |= {f"{stage.title()}QueueUrl": q.queue_url for stage, q in self.queues.items()}
        outputs |= {f"{stage.title()}DlqUrl": q.queue_url for stage, q in self.dlqs.items()}
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
