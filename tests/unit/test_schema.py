"""`syncmon schema` (SPEC §13): the JSON Schema of alerts.yaml, generated from the pydantic models,
closed like `validate`, shipped beside both alerts.yaml files that name it for editors."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from syncmon.cli import main
from syncmon.config.schema import SCHEMA_FILE, config_schema, config_schema_text, packaged_schema

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CONFIGS = [REPO / "alerts.yaml", REPO / "src" / "syncmon" / "alerts.yaml"]
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"


def validator() -> jsonschema.Draft7Validator:
    schema = config_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def errors(document: Any) -> list[str]:
    return sorted(e.message for e in validator().iter_errors(document))


def shipped_document() -> Any:
    return yaml.safe_load((REPO / "alerts.yaml").read_text())


@pytest.mark.parametrize("config", SHIPPED_CONFIGS, ids=["repository", "package"])
def test_each_shipped_alerts_yaml_names_the_schema_beside_it(config: Path) -> None:
    assert config.read_text().splitlines()[0] == MODELINE
    assert (config.parent / SCHEMA_FILE).read_text() == config_schema_text(), (
        f"the models changed: regenerate with `syncmon schema > {config.parent / SCHEMA_FILE}`"
    )


def test_the_installed_schema_is_where_schema_path_says(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--path"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == Path(packaged_schema())
    assert path.read_text() == config_schema_text()
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == config_schema_text()


def test_the_shipped_config_validates() -> None:
    assert errors(shipped_document()) == []


def test_a_misspelt_key_does_not() -> None:
    document = shipped_document()
    rule = document["alerts"][0]
    rule["serverity"] = rule.pop("severity")
    assert errors(document) == [
        "'severity' is a required property",
        "Additional properties are not allowed ('serverity' was unexpected)",
    ]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("alerts", 0, "for"), "5 minutes"),
        (("alerts", 0, "condition"), "sync_failure_rate >"),
        (("alerts", 0, "severity"), "page"),
        (("alerts", 0, "min_samples"), -1),
        (("targets", "error_rate"), "below 1%"),
        (("sources", "api", "timeout"), 5),
        (("sources", "databse"), {}),
    ],
)
def test_what_validate_rejects_in_form_the_schema_rejects(
    where: tuple[str | int, ...], value: Any
) -> None:
    document = copy.deepcopy(shipped_document())
    node = document
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    assert errors(document) != []


def test_every_object_is_closed_and_every_field_described() -> None:
    def objects(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    schema = config_schema()
    found = list(objects(schema))
    assert len(found) == len(schema["definitions"]) + 1  # every model, and the file itself
    for obj in found:
        assert obj["additionalProperties"] is False
        missing = [
            name for name, field in obj["properties"].items() if not field.get("description")
        ]
        assert missing == [], missing
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "$defs" not in json.dumps(schema)  # draft-07 names them `definitions`
