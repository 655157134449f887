"""The JSON Schema of alerts.yaml, generated from the pydantic models, for editors.

yaml-language-server (VS Code's YAML extension, Neovim, Helix) reads a file's
`# yaml-language-server: $schema=alerts.schema.json` modeline and then completes keys,
shows each field's docstring on hover and flags unknown keys (`serverity`) as you type.
The schema is closed like `validate`: every object has `additionalProperties: false`.
It is written for draft-07, which every such editor understands; `validate` stays the
authority (units, metric names, ranges are its to check).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from syncmon.config.models import ConfigModel

SCHEMA_FILE = "alerts.schema.json"
DRAFT = "http://json-schema.org/draft-07/schema#"


def config_schema() -> dict[str, Any]:
    generated = ConfigModel.model_json_schema(
        by_alias=True, mode="validation", ref_template="#/definitions/{model}"
    )
    cleaned = _clean(generated)
    definitions = cleaned.pop("$defs", {})  # draft-07's name for them
    return {"$schema": DRAFT, "title": "syncmon alerts.yaml", **cleaned, "definitions": definitions}


def config_schema_text() -> str:
    """The schema as shipped: stable key order, two-space indent, a final newline."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def packaged_schema() -> str:
    """Where the installed schema file is (beside the packaged alerts.yaml)."""
    return str(resources.files("syncmon").joinpath(SCHEMA_FILE))


def _clean(node: Any, *, in_properties: bool = False) -> Any:
    """Drop pydantic's generated titles ("Keep Firing For" says nothing the key does not),
    and give a `$ref` with siblings an `allOf`: draft-07 ignores a `$ref`'s siblings, so the
    description would otherwise never reach the editor."""
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:  # keys here are field names, not schema keywords
        return {key: _clean(value) for key, value in node.items()}
    cleaned = {
        key: _clean(value, in_properties=key in ("properties", "$defs"))
        for key, value in node.items()
        if key != "title"
    }
    if "$ref" in cleaned and len(cleaned) > 1:
        ref = cleaned.pop("$ref")
        cleaned = {"allOf": [{"$ref": ref}], **cleaned}
    return cleaned
