"""Validation findings: what is wrong, how badly, and exactly where."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a document.

    ``code`` is stable across releases (documented in docs/validation-rules.md); ``path`` is an
    XPath with 1-based positions such as ``/alert/info[1]/area[2]/polygon[1]``.
    """

    code: str
    severity: Severity
    message: str
    path: str
    line: int | None = None
    column: int | None = None

    def located(self, line: int | None, column: int | None) -> Finding:
        return replace(self, line=line, column=column)

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
        }


def error(code: str, message: str, path: str) -> Finding:
    return Finding(code, Severity.ERROR, message, path)


def warning(code: str, message: str, path: str) -> Finding:
    return Finding(code, Severity.WARNING, message, path)


def info(code: str, message: str, path: str) -> Finding:
    return Finding(code, Severity.INFO, message, path)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
