"""The wiring: one resource -> variable map, settings checked with a clear error, alarms on metrics that
exist, and imports that only point down (domain <- adapters <- handlers <- infra <- ops <- local)."""

import ast
import importlib.util
from pathlib import Path

import pytest

from functions import wiring
from functions.adapters.aws import ConfigurationError, Settings
from infra import topology

ROOT = Path(__file__).resolve().parents[2]


def test_a_variable_the_function_lacks_is_an_error_naming_it_not_an_empty_name(monkeypatch):
    for variable in [r.variable for r in wiring.RESOURCES] + [wiring.queue_variable(s) for s in wiring.STAGES]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("TABLE_NAME", "t")
    settings = Settings.from_env()
    assert settings.table == "t"
    with pytest.raises(ConfigurationError, match="LETTERS_BUCKET is not set"):
        settings.letters_bucket  # noqa: B018
    with pytest.raises(ConfigurationError, match="QUEUE_URL_DONATIONS is not set"):
        settings.queue_url("donations")
    monkeypatch.setenv("PAYMENTS_PROVIDER", "paypal")
    with pytest.raises(ConfigurationError, match="PAYMENTS_PROVIDER must be one of sandbox, stripe"):
        Settings.from_env()


def test_one_dependencies_object_gives_the_functions_their_settings_clients_and_time(monkeypatch):
    import datetime as dt

    from functions.adapters import aws, clock

    monkeypatch.setenv("TABLE_NAME", "from-the-environment")
    moment = dt.datetime(2031, 5, 6, tzinfo=dt.UTC)
    made = aws.Dependencies(Settings.from_env(), clock=lambda: moment)
    try:
        assert aws.use(made) is aws.dependencies() is made
        assert clock.now() == moment and aws.settings().table == "from-the-environment"
        assert aws.client("sqs") is aws.client("sqs") is made.clients["sqs"]  # one per cold start
        assert made.keep("x", object) is made.keep("x", object)
        monkeypatch.setenv("TABLE_NAME", "rewired")
        aws.reset()  # rewired: the next use reads the environment again, nothing of the old one kept
        assert aws.dependencies() is not made and aws.settings().table == "rewired"
        assert "x" not in aws.dependencies().kept
    finally:
        aws.reset()


def test_each_function_is_given_exactly_the_settings_of_its_grants(monkeypatch):
    names = {r.name: f"name-of-{r.name}" for r in wiring.RESOURCES}
    urls = {stage: f"https://sqs/{stage}" for stage in wiring.STAGES}
    for fn in topology.FUNCTIONS:
        env = topology.environment(fn, names, urls, "https://api.example", "sandbox")
        for resource in wiring.RESOURCES:
            monkeypatch.delenv(resource.variable, raising=False)
        for stage in wiring.STAGES:
            monkeypatch.delenv(wiring.queue_variable(stage), raising=False)
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        settings = Settings.from_env()
        granted = {g.split(":")[0] for g in fn.grants}
        granted = {wiring.APP_SECRET if g == "secret" else g for g in granted}
        assert set(settings.names) == granted & {r.name for r in wiring.RESOURCES}, fn.name
        assert set(settings.queue_urls) == {g.split(":")[1] for g in fn.grants if g.startswith("send:")}


def test_every_metric_alarm_watches_a_metric_its_function_emits():
    for alarm in topology.METRIC_ALARMS:
        module = topology.function(alarm.function).handler.rsplit(".", 1)[0]
        source = Path(importlib.util.find_spec(module).origin).read_text()
        assert f'name="{alarm.metric}"' in source, (alarm.metric, module)
        assert f'namespace="{topology.METRIC_NAMESPACE}"' in source, module


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("room, may_not", [
    ("functions/domain", ("functions.adapters", "functions.handlers", "functions.services", "infra")),
    ("functions/services", ("functions.adapters", "functions.handlers", "infra")),  # over ports, not adapters
    ("functions/adapters", ("functions.handlers", "infra")),
    ("functions/handlers", ("infra",)),
    ("functions/wiring.py", ("functions.adapters", "functions.handlers", "functions.domain", "infra")),
    ("functions", ("infra", "ops", "local")),
    ("infra", ("ops", "local")),  # deployment only
    # The operator's CLI never imports the emulator: local/commands.py adds serve, demo and sample to it.
    ("ops", ("local",)),
])
def test_imports_only_point_down(room, may_not):
    path = ROOT / room
    for file in ([path] if path.is_file() else sorted(path.rglob("*.py"))):
        upward = {m for m in _imports(file) if m.startswith(may_not)}
        assert not upward, (str(file.relative_to(ROOT)), upward)


def test_the_wiring_table_imports_no_adapter():
    assert not {m for m in _imports(ROOT / "infra/topology.py") if m.startswith("functions.adapters")}
