"""Configuration: contexts, precedence, one-line errors naming file and key, secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plugintop.config.context import Auth, validate_org_id
from plugintop.config.credentials import resolve
from plugintop.config.settings import load_context
from plugintop.errors import ConfigError
from plugintop.redact import redact

GOOD = """
current-context = "prod"

[contexts.prod.prometheus]
url = "http://prom.example:9090"
tenant = "team-a"

[contexts.prod.loki]
url = "http://loki.example:3100"

[contexts.prod.slo]
p99_target = "2s"
p99_targets = { search = "500ms" }

[contexts.prod.schema]
tenant_label = "tenant_id"

[contexts.staging.grafana]
url = "https://grafana.example"
auth = { type = "bearer", token_env = "GRAFANA_TOKEN" }
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text)
    p.chmod(mode)
    return p


def test_contexts_and_precedence(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD)
    loaded = load_context(str(p), None, {}, {})
    assert loaded.name == "prod"
    ctx = loaded.context
    assert ctx.prometheus.url == "http://prom.example:9090" and ctx.prometheus.tenant == "team-a"
    assert ctx.telemetry.tenant_label == "tenant_id" and ctx.slo.p99_target_s("search") == 0.5
    assert ctx.slo.p99_target_s("other") == 2.0
    env = {"PLUGINTOP_PROMETHEUS_URL": "http://from-env:1", "PLUGINTOP_LOKI_URL": "http://loki-env:2"}
    ctx = load_context(str(p), None, {"prometheus.url": "http://from-flag:3"}, env).context
    assert ctx.prometheus.url == "http://from-flag:3"  # flags > environment
    assert ctx.loki.url == "http://loki-env:2"  # environment > file
    assert ctx.prometheus.tenant == "team-a"  # the file's other keys stay
    assert load_context(str(p), "staging", {}, {}).context.grafana is not None
    assert load_context(str(p), None, {}, {"PLUGINTOP_CONTEXT": "staging"}).name == "staging"


def test_defaults_without_a_file(tmp_path: Path) -> None:
    loaded = load_context(None, None, {}, {"XDG_CONFIG_HOME": str(tmp_path)})
    assert loaded.name == "default" and loaded.path is None and loaded.context.prometheus.url is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[contexts.a.prometheus]\nurl = "ftp://x"', "contexts.a.prometheus.url"),
        ('[contexts.a.prometheus]\nurll = "http://x"', "contexts.a.prometheus.urll"),
        ('[contexts.a.prometheus]\ntenant = "a|b"', "contexts.a.prometheus.tenant"),
        ("[contexts.a.prometheus.timeout]\nread = -1", "contexts.a.prometheus.timeout.read"),
        ("[contexts.a.slo]\nsuccess_target = 2", "contexts.a.slo.success_target"),
        ('[contexts.a.prometheus.auth]\ntype = "digest"', "contexts.a.prometheus.auth.type"),
        ('current-context = "nope"\n[contexts.a]', "current-context"),
        ("[contexts.a\n", "not valid TOML"),
        ('[contexts.a.tail]\ntemplate = " "', "contexts.a.tail.template"),
        ("[contexts.a.tail]\nbuffer_lines = 10", "contexts.a.tail.buffer_lines"),
        ('[contexts.a.slo]\np99_targets = { search = "fast" }', "contexts.a.slo.p99_targets.search"),
        ("[contexts.a.schema]\ntenant_lable = 'x'", "contexts.a.schema.tenant_lable"),
        ("[contexts.a.prometheus.tls]\nca_file = 3", "contexts.a.prometheus.tls.ca_file"),
        ("[contexts.a.prometheus.auth]\ntoken = 3", "contexts.a.prometheus.auth.token"),
        ("current_context = 'a'", "current_context"),
        ("contexts = 3", "contexts"),
    ],
)
def test_mistakes_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_context(str(p), None, {}, {})
    msg = str(e.value)
    assert str(p) in msg and key in msg and "\n" not in msg


def test_values_are_typed_and_a_round_trip_keeps_them(tmp_path: Path) -> None:
    text = '[contexts.a.prometheus]\nurl = "http://x:1/"\ntimeout = { read = 5 }\n'
    text += '[contexts.a.prometheus.tls]\nca_file = "ca.pem"\n[contexts.a.prometheus.auth]\ntype = "bearer"\ntoken = "t0p"\n'
    ctx = load_context(str(write(tmp_path, text)), None, {}, {}).context
    prom = ctx.prometheus
    assert prom.url == "http://x:1" and prom.timeout.read == 5.0 and isinstance(prom.timeout.read, float)
    assert prom.tls.ca_file == Path("ca.pem") and prom.auth.token is not None
    assert prom.auth.token.get_secret_value() == "t0p" and "t0p" not in repr(ctx) and "t0p" not in str(prom.auth.token)
    # an override rebuilds the context from its own data: every other value survives, the secret too
    again = load_context(str(tmp_path / "config.toml"), None, {"loki.url": "http://l:2"}, {}).context
    assert again.prometheus == prom and again.loki.url == "http://l:2"


def test_bad_flag_names_the_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="command line: prometheus.url"):
        load_context(None, None, {"prometheus.url": "nope"}, {"XDG_CONFIG_HOME": str(tmp_path)})


def test_unknown_context(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD)
    with pytest.raises(ConfigError, match="no context named 'x'.*known: prod, staging"):
        load_context(str(p), "x", {}, {})


def test_inline_secret_in_readable_file_warns(tmp_path: Path) -> None:
    p = write(tmp_path, '[contexts.a.prometheus]\nurl="http://x"\nauth={type="bearer", token="s3cr3t-token"}', 0o644)
    loaded = load_context(str(p), None, {}, {})
    assert any("chmod 600" in w for w in loaded.warnings)
    assert "s3cr3t-token" not in repr(loaded.context)
    p.chmod(0o600)
    assert not load_context(str(p), None, {}, {}).warnings


def test_secrets_from_env_and_private_files(tmp_path: Path) -> None:
    creds = resolve(Auth(type="bearer", token_env="TOK"), "grafana.auth", {"TOK": "glsa_abc123456789"})
    assert creds.headers["Authorization"] == "Bearer glsa_abc123456789"
    assert "glsa_abc" not in repr(creds)
    assert redact("failed with glsa_abc123456789 in it") == "failed with *** in it"
    f = tmp_path / "token"
    f.write_text("file-token-value\n")
    f.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        resolve(Auth(type="bearer", token_file=f), "loki.auth", {})
    f.chmod(0o600)
    assert resolve(Auth(type="bearer", token_file=f), "loki.auth", {}).headers["Authorization"].endswith("value")
    with pytest.raises(ConfigError, match="TOK2 is not set"):
        resolve(Auth(type="bearer", token_env="TOK2"), "x", {})
    basic = resolve(Auth(type="basic", username="u", password_env="PW"), "x", {"PW": "pw-secret"})
    assert basic.basic == ("u", "pw-secret")


def test_env_token_variables(tmp_path: Path) -> None:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path),
        "PLUGINTOP_GRAFANA_URL": "http://g",
        "PLUGINTOP_GRAFANA_TOKEN": "t0ken-xyz",
    }
    ctx = load_context(None, None, {}, env).context
    assert ctx.grafana is not None and ctx.grafana.auth.token_env == "PLUGINTOP_GRAFANA_TOKEN"
    assert resolve(ctx.grafana.auth, "grafana.auth", env).headers["Authorization"] == "Bearer t0ken-xyz"


def test_redact_urls_and_headers() -> None:
    assert redact("GET http://user:hunter2@host/x") == "GET http://user:***@host/x"
    assert "abcdefghijkl" not in redact("Authorization: Bearer abcdefghijkl")
    token = "glsa_" + "a" * 32 + "_0123abcd"
    assert token not in redact(f"token {token}")


@pytest.mark.parametrize("bad", ["a|b", "", ".", "..", "x" * 151, "tenant with space", "ü"])
def test_org_id_validation(bad: str) -> None:
    with pytest.raises(ValueError):
        validate_org_id(bad)


def test_org_id_accepts_the_documented_alphabet() -> None:
    assert validate_org_id("team-a_1.(x)*'!") == "team-a_1.(x)*'!"


def test_sslkeylogfile_warns(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "SSLKEYLOGFILE": "/tmp/keys"}
    assert any("SSLKEYLOGFILE" in w for w in load_context(None, None, {}, env).warnings)
    assert os.environ.get("PLUGINTOP_NEVER_SET") is None


def test_the_grafana_flag_wins_over_direct_urls_in_the_environment(tmp_path: Path) -> None:
    env = {"PLUGINTOP_PROMETHEUS_URL": "http://from-env:9090", "PLUGINTOP_LOKI_URL": "http://from-env:3100"}
    flags = {"grafana.url": "http://grafana:3000", "loki.url": "http://from-flag:3100"}
    loaded = load_context(None, None, flags, {**env, "XDG_CONFIG_HOME": str(tmp_path)})
    ctx = loaded.context
    assert ctx.grafana is not None and ctx.grafana.url == "http://grafana:3000"
    assert ctx.prometheus.url is None, "PLUGINTOP_PROMETHEUS_URL must not beat --grafana-url"
    assert ctx.loki.url == "http://from-flag:3100", "a flag naming the backend's own URL still wins"
    assert loaded.warnings == [
        "warning: PLUGINTOP_PROMETHEUS_URL ignored: --grafana-url reaches that backend through Grafana"
    ]
    alone = load_context(None, None, {}, {**env, "XDG_CONFIG_HOME": str(tmp_path)}).context
    assert alone.prometheus.url == "http://from-env:9090" and alone.grafana is None
