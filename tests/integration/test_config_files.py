"""A config that is not a regular file (issue 16 item 9): `validate`, `check` and `syncmon test`
refuse a FIFO, a directory or a device with a message at once, instead of hanging or
reading forever."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.test_check_command import syncmon


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "alerts.yaml"
    os.mkfifo(path)  # no writer will ever come: opening it blocking would wait forever
    return path


@pytest.mark.parametrize("command", [["validate"], ["check", "--config"], ["test"]])
async def test_a_fifo_is_refused_with_a_message_not_waited_on(
    fifo: Path, command: list[str]
) -> None:
    code, _, err = await syncmon(*command, str(fifo), timeout=30)
    assert code == 3
    assert "it is a named pipe (FIFO), not a regular file" in err
    assert str(fifo) in err


@pytest.mark.parametrize(
    ("path", "kind"), [("/dev/zero", "a character device"), ("/dev/null", "a character device")]
)
async def test_a_device_is_refused(path: str, kind: str) -> None:
    code, _, err = await syncmon("validate", path, timeout=30)
    assert (code, err.strip()) == (
        3,
        f"{path}: cannot read: it is {kind}, not a regular file; give the path of a YAML file",
    )


async def test_a_directory_is_refused(tmp_path: Path) -> None:
    code, _, err = await syncmon("validate", str(tmp_path), timeout=30)
    assert code == 3
    assert f"{tmp_path}: cannot read: it is a directory, not a regular file" in err


async def test_a_regular_file_still_validates(tmp_path: Path) -> None:
    config = tmp_path / "alerts.yaml"
    config.write_text(
        "alerts:\n  - {name: a, condition: 'sync_failure_rate > 5%', severity: warning}\n"
    )
    code, out, _ = await syncmon("validate", str(config), timeout=30)
    assert (code, out.strip()) == (0, f"{config}: valid (1 rule, 5 targets)")
