"""Reading JSON APIs: parse bytes safely and pull fields out with JMESPath expressions."""

from __future__ import annotations

import json
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from monitor.errors import ParseError, SourceConfigError
from monitor.fetch import Response


def parse_json(response: Response, source: str, url: str) -> Any:
    """The JSON body of *response*; truncated or malformed JSON is a ParseError."""
    try:
        return json.loads(response.text())
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=source, url=url
        ) from None


def compile_paths(mapping: dict[str, str], where: str) -> dict[str, Any]:
    """Compile a field → JMESPath mapping, naming the field whose expression is wrong."""
    compiled = {}
    for field, expression in mapping.items():
        try:
            compiled[field] = jmespath.compile(expression)
        except JMESPathError as exc:
            raise SourceConfigError(f"{where}: field {field!r}: bad JMESPath {expression!r}: {exc}") from None
    return compiled


def check_paths(mapping: dict[str, str]) -> dict[str, str]:
    """Pydantic validator helper: reject mappings with expressions JMESPath cannot compile."""
    for field, expression in mapping.items():
        try:
            jmespath.compile(expression)
        except JMESPathError as exc:
            raise ValueError(f"field {field!r}: bad JMESPath {expression!r}: {exc}") from None
    return mapping


def extract(compiled: dict[str, Any], record: Any) -> dict[str, Any]:
    return {field: expr.search(record) for field, expr in compiled.items()}
