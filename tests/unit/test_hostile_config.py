"""`validate` is total (SPEC §12, issue 9): the nasty files of the fault sweep, each one a
`FILE:LINE:COLUMN: message`, never a traceback, and values out of their documented range."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from syncmon.config.loader import ConfigInvalid, load_config
from syncmon.config.settings import Overrides, Settings, resolve_settings
from syncmon.core.conditions import Comparison

RULE = b'alerts:\n  - name: "x"\n    condition: "sync_failure_rate > 5%"\n    severity: critical\n'

# (name, file bytes, the one problem expected, as FILE:LINE:COLUMN: message-start)
CORPUS: list[tuple[str, bytes, str]] = [
    (
        "an escape beyond Unicode (found by the fuzz test)",
        b'alerts:\n  - name: "a\\U99999999b"\n',
        "a.yaml:2:15: an escape in a double-quoted string names no Unicode character",
    ),
    (
        "ESC byte",
        b'alerts:\n  - name: "x\x1b]0;pwned\x07"\n',
        "a.yaml:2:13: character U+001B (ESC) is not allowed",
    ),
    ("NUL byte", b"alerts:\n  - name: x\x00\n", "a.yaml:2:12: character U+0000 (NUL)"),
    ("C1 control", b"alerts: []\n# \xc2\x9b\n", "a.yaml:2:3: character U+009B"),
    ("invalid UTF-8", b"alerts:\n  - name: \xff\xfe\n", "a.yaml:2:11: not UTF-8 text: byte 0xff"),
    ("UTF-16 file", "alerts: []\n".encode("utf-16"), "a.yaml:1:1: not UTF-8 text"),
    (
        "flow nesting 1,100 deep",
        b"alerts: " + b"[" * 1100 + b"]" * 1100 + b"\n",
        "a.yaml:1:72: nested deeper than 64 levels",
    ),
    (
        "block nesting 70 deep",
        b"alerts:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 71)),
        "a.yaml:65:129: nested deeper than 64 levels",
    ),
    (
        "recursive alias",
        b"alerts: &a [*a]\n",
        "a.yaml:1:9: nested deeper than 64 levels (through aliases)",
    ),
    (
        "alias bomb",
        b"a: &a [x,x,x,x,x,x,x,x,x,x]\n"
        + b"".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n".encode()
            for i in range(6)
        )
        + b"alerts: *g\n",
        "more than 100000 values",
    ),
    (
        "a for that overflows a timedelta",
        RULE + b"    for: 99999999999999999999d\n",
        "a.yaml:5:10: for: duration '99999999999999999999d' is too long: at most 365d",
    ),
    (
        "a 400-digit threshold",
        b"alerts:\n  - name: x\n    condition: 'health.cpu > " + b"9" * 400 + b"'\n"
        b"    severity: critical\n",
        "a.yaml:3:30: condition: threshold 999999999999… is out of range for health.cpu",
    ),
    (
        "a ratio above 100%",
        RULE.replace(b"5%", b"5000%"),
        "a.yaml:3:37: condition: threshold 5000% is out of range for sync_failure_rate: "
        "a ratio is between 0% and 100%",
    ),
    (
        "a 5,000-digit min_samples",
        RULE + b"    min_samples: " + b"7" * 5000 + b"\n",
        "a.yaml:5:18: cannot read this value: 777777777777…777777 (5000 characters) is too large",
    ),
    (
        "window 0s",
        RULE + b"    window: 0s\n",
        "a.yaml:5:13: window: 0s is out of range: between 1s and 7d",
    ),
    (
        "keep_firing_for 8d",
        RULE + b"    keep_firing_for: 8d\n",
        "a.yaml:5:22: keep_firing_for: 8d is out of range: between 0ms and 7d",
    ),
    (
        "interval 0s in the file",
        b"sources: {interval: 0s}\n",
        "a.yaml:1:21: sources.interval: 0s is out of range: between 1s and 1d",
    ),
    (
        "API port 99999",
        b"sources:\n  api: {base_url: 'http://h:99999'}\n",
        "a.yaml:2:19: sources.api.base_url: port 99999 is out of range (1-65535)",
    ),
    (
        "DSN port notaport, password never shown",
        b"sources:\n  database: {dsn: 'postgresql://u:pw-hidden@h:notaport/db'}\n",
        "a.yaml:2:19: sources.database.dsn: port 'notaport' is not a number (1-65535)",
    ),
    (
        "timeout of a year",
        b"sources:\n  api: {timeout: 365d}\n",
        "a.yaml:2:18: sources.api.timeout: 365d is out of range: between 100ms and 5m",
    ),
]


@pytest.mark.parametrize(("name", "data", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_every_nasty_file_is_a_positioned_problem(
    name: str, data: bytes, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.yaml").write_bytes(data)
    with pytest.raises(ConfigInvalid) as caught:
        load_config("a.yaml", {})
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(expected) or expected in p for p in found), found
    assert all(p.line >= 1 and p.column >= 1 for p in caught.value.problems)
    assert not any("pw-hidden" in p for p in found)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"\xef\xbb\xbf" + RULE)
    config = load_config(tmp_path / "a.yaml", {})
    assert [r.name for r in config.rules] == ["x"]


def test_values_at_the_edges_of_their_ranges_are_valid(tmp_path: Path) -> None:
    edges = (
        RULE.replace(b"5%", b"100%")
        + b"    window: 7d\n    for: 7d\n    keep_firing_for: 0s\n"
        + b"sources: {interval: 1s, api: {timeout: 100ms, conflicts_timeout: 5m},"
        + b" database: {statement_timeout: 5m}}\n"
        + b"evaluation: {lookback: 31d}\n"  # `for: 7d` needs a lookback at least as long
    )
    (tmp_path / "a.yaml").write_bytes(edges)
    config = load_config(tmp_path / "a.yaml", {})
    condition = config.rules[0].condition
    assert isinstance(condition, Comparison) and condition.threshold == 1.0


@pytest.mark.parametrize(
    "name",
    ["ESC byte", "NUL byte", "invalid UTF-8", "flow nesting 1,100 deep", "a 400-digit threshold"],
)
def test_validate_exits_3_without_a_traceback(name: str, tmp_path: Path) -> None:
    data, expected = next((d, e) for n, d, e in CORPUS if n == name)
    path = tmp_path / "a.yaml"
    path.write_bytes(data)
    result = subprocess.run(
        [sys.executable, "-m", "syncmon", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert expected.replace("a.yaml", str(path)) in result.stderr


# --- values from flags and the environment, checked before anything starts ----------------


@pytest.mark.parametrize(
    ("overrides", "env", "message"),
    [
        (Overrides(api_url="http://127.0.0.1:99999"), {}, "--api-url: the API URL port 99999"),
        ({}, {"SYNCMON_API_URL": "ftp://x"}, "SYNCMON_API_URL: the API URL must start with http"),
        (
            Overrides(dsn=SecretStr("postgresql://u:pw-hidden@h:notaport/db")),
            {},
            "--dsn: the DSN port",
        ),
        (
            {},
            {"SYNCMON_DATABASE_URL": "postgresql://u:pw-hidden@a:5432,b:70000/db"},
            "SYNCMON_DATABASE_URL: the DSN port 70000 is out of range",
        ),
        (
            Overrides(dsn=SecretStr("host=db user=u password=pw-hidden")),
            {},
            "--dsn: the DSN must be a URL",
        ),
        (Overrides(interval="0s"), {}, "--interval: '0s' is out of range: between 1s and 1d"),
        (Overrides(interval="500ms"), {}, "--interval: '500ms' is out of range"),
        (Overrides(interval="99999999999999999999d"), {}, "--interval: duration"),
    ],
)
def test_flag_and_environment_values_are_checked_first(
    overrides: Overrides | dict[str, str], env: dict[str, str], message: str, tmp_path: Path
) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(RULE)
    from syncmon.config.settings import SettingsInvalid

    given = overrides if isinstance(overrides, Overrides) else Overrides()
    with pytest.raises(SettingsInvalid) as caught:
        resolve_settings(Overrides(str(path), given.api_url, given.dsn, given.interval), env)
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems
    assert "pw-hidden" not in str(caught.value)


def test_settings_repr_holds_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(RULE + b"sources:\n  database: {dsn: 'postgresql://u:${PW}@db/app'}\n")
    settings = resolve_settings(
        Overrides(str(path)), {"PW": "pw-in-file-1", "SYNCMON_API_TOKEN": "tok-in-env-2"}
    )
    assert isinstance(settings.dsn, SecretStr) and isinstance(settings.api_token, SecretStr)
    assert settings.dsn.get_secret_value() == "postgresql://u:pw-in-file-1@db/app"
    for text in (repr(settings), str(settings), repr(settings.config)):
        assert "pw-in-file-1" not in text and "tok-in-env-2" not in text
    by_hand = Settings(settings.config, "https://u:pw-in-url-3@api", None, None, None)
    assert "pw-in-url-3" not in repr(by_hand)
