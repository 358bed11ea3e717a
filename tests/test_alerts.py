"""`plugintop alert draft`: every signal and condition makes a rule `promtool check rules` accepts, hostile
names stay literal text in the rule's templates, and `promtool test rules` shows the rules fire when they
should and not before."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plugintop.errors import UsageError
from plugintop.queries.alerts import Condition, draft, parse_condition
from plugintop.queries.promql import quote
from plugintop.report.alert import to_json, to_yaml
from plugintop.schema import Schema
from tests.hostile import HOSTILE

S = Schema()
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
BUSINESS = "recommender_courses_recommended_total"
CONDITIONS = ["> 2s", "> 0.05", "< 5%", "drops 50%", "rises 100%", "absent"]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert Path(PROMTOOL).exists(), "promtool missing: scripts/install-deps.sh installs the Debian prometheus package"
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


def check(tmp_path: Path, text: str) -> None:
    f = tmp_path / "rules.yaml"
    f.write_text(text)
    r = promtool("check", "rules", str(f))
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("tenant", ["acme", None])
@pytest.mark.parametrize("signal", ["p99", "failure_ratio", "cost_per_call", BUSINESS])
def test_every_signal_and_condition_passes_promtool(tmp_path: Path, signal: str, tenant: str | None) -> None:
    rules = []
    for when in CONDITIONS:
        if when == "> 2s" and signal != "p99":
            continue
        cond = parse_condition(when, signal)
        rules.append(draft(S, "recommender", tenant, signal, cond, 600, "counter" if signal == BUSINESS else None))
    for rule in rules:  # one draft, one rule group, as the command writes it
        check(tmp_path, to_yaml("plugintop-recommender", [rule]))
    assert all(r.duration == "10m" and r.labels["severity"] == "warning" for r in rules)
    assert all("plugintop report --plugin recommender" in r.annotations["triage"] for r in rules)
    assert json.loads(to_json("g", rules))["groups"][0]["rules"][0]["for"] == "10m"


@pytest.mark.parametrize("name", HOSTILE[:12])
def test_hostile_plugin_and_tenant_names_stay_literal(tmp_path: Path, name: str) -> None:
    rule = draft(S, "p" + name, "t" + name, "p99", Condition("above", 2.0, "> 2s"), 300)
    check(tmp_path, to_yaml("g" + name, [rule]))


def _unliteral(text: str) -> str:
    return text.replace('{{ "{{" }}', "{{").replace('{{ "}}" }}', "}}")


def test_a_business_drop_fires_after_its_for_and_not_before(tmp_path: Path) -> None:
    """Two days of 60 courses a minute, then 10 a minute: the drop rule fires once the drop has lasted
    `for`, with the tenant's name (hostile braces included) as literal text in its annotations."""
    tenant = 'acme {{ .Value }} "x"'
    rule = draft(S, "recommender", tenant, BUSINESS, parse_condition("drops 50%", BUSINESS), 600, "counter")
    (tmp_path / "rules.yaml").write_text(to_yaml("g", [rule]))
    series = f"{BUSINESS}{{tenant_id={quote(tenant)}}}"
    labels = {"alertname": rule.alert, **{k: _unliteral(v) for k, v in rule.labels.items()}}
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": series, "values": "0+60x2880 172800+10x120"}],
                "alert_rule_test": [
                    {"eval_time": "2880m", "alertname": rule.alert, "exp_alerts": []},
                    {"eval_time": "2895m", "alertname": rule.alert, "exp_alerts": []},  # dropping, not for 10m yet
                    {
                        "eval_time": "2920m",
                        "alertname": rule.alert,
                        "exp_alerts": [
                            {
                                "exp_labels": {k: v for k, v in labels.items() if k != "alertname"},
                                "exp_annotations": {k: _unliteral(v) for k, v in rule.annotations.items()},
                            }
                        ],
                    },
                ],
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(json.dumps(test))
    r = promtool("test", "rules", str(tmp_path / "test.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_failure_ratio_threshold_fires_per_tenant_when_no_tenant_is_given(tmp_path: Path) -> None:
    rule = draft(S, "recommender", None, "failure_ratio", parse_condition("> 5%", "failure_ratio"), 300)
    (tmp_path / "rules.yaml").write_text(to_yaml("g", [rule]))
    base = 'plugin_tool_duration_seconds_count{plugin="recommender",tool="t",tenant="%s",outcome="%s"}'
    inputs = [
        {"series": base % ("acme", "success"), "values": "0+90x60"},
        {"series": base % ("acme", "error"), "values": "0+10x60"},  # 10 %
        {"series": base % ("globex", "success"), "values": "0+99x60"},
        {"series": base % ("globex", "error"), "values": "0+1x60"},  # 1 %
    ]
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [
                    {
                        "eval_time": "30m",
                        "alertname": rule.alert,
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "plugin": "recommender",
                                    "tool": "t",
                                    "tenant": "acme",
                                },
                                "exp_annotations": {
                                    k: v.replace("{{ $labels.tenant }}", "acme") for k, v in rule.annotations.items()
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(json.dumps(test))
    r = promtool("test", "rules", str(tmp_path / "test.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("when", ["", "   ", "sometimes", "drops 150%", "> 2s" + "x", "rises 0%"])
def test_a_bad_condition_is_one_usage_error(when: str) -> None:
    with pytest.raises(UsageError):
        parse_condition(when, "failure_ratio")


def test_a_duration_only_for_p99() -> None:
    with pytest.raises(UsageError, match="only p99"):
        parse_condition("> 2s", "failure_ratio")
    assert parse_condition("> 800ms", "p99") == Condition("above", 0.8, "> 800ms")


def plugintop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plugintop", *args], capture_output=True, text=True, timeout=120)


def test_the_command_on_the_demo_names_close_metrics_and_rejects_bad_input() -> None:
    ok = plugintop("alert", "draft", "--demo", "--signal", BUSINESS, "--when", "drops 50%", "--for", "15m")
    assert ok.returncode == 0 and '"for": "15m"' in ok.stdout.replace("for:", '"for":')
    typo = plugintop("alert", "draft", "--demo", "--signal", "courses_recomended", "--when", "drops 50%")
    assert typo.returncode == 2 and typo.stderr.count("\n") == 1 and BUSINESS in typo.stderr
    bad_for = plugintop("alert", "draft", "--demo", "--signal", "p99", "--when", "> 2s", "--for", "soon")
    assert bad_for.returncode == 2 and bad_for.stderr.count("\n") == 1
    empty = plugintop("alert", "draft", "--demo", "--signal", "p99", "--when", "")
    assert empty.returncode == 2 and "empty" in empty.stderr


def test_a_rule_for_a_plugin_or_tenant_with_no_series_is_drafted_with_a_warning_and_exit_1() -> None:
    typo = plugintop("alert", "draft", "--demo", "--plugin", "recomender", "--signal", "p99", "--when", "> 2s")
    assert typo.returncode == 1 and '- alert: "RecomenderP99High"' in typo.stdout  # drafted all the same
    assert typo.stderr.count("\n") == 1 and "could never fire" in typo.stderr and "recommender" in typo.stderr
    tenant = plugintop("alert", "draft", "--demo", "--tenant", "acme-typo", "--signal", "p99", "--when", "> 2s")
    assert tenant.returncode == 1 and "tenant 'acme-typo'" in tenant.stderr and "acme" in tenant.stderr
    ok = plugintop("alert", "draft", "--demo", "--signal", "p99", "--when", "> 2s")
    assert ok.returncode == 0 and ok.stderr == ""
