"""Errors a user can act on. The CLI prints them as they are: never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class KubeprodError(Exception):
    """A failure with a message meant for the user."""

    exit_code = 1


class InputError(KubeprodError):
    """Bad input: a spec, a flag, a file. Exit code 2."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located and explained."""

    file: str
    line: int
    field: str
    rule: str
    message: str
    fix: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}: {self.field}"
        return f"{where}: [{self.rule}] {self.message}. Fix: {self.fix}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "rule": self.rule,
            "message": self.message,
            "fix": self.fix,
        }


class SpecInvalid(InputError):
    """Every problem found in a spec, reported together."""

    def __init__(self, problems: list[Problem], *, note: str = ""):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.field, p.rule))
        self.note = note
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the spec:"
        lines = [head, *("  " + p.render() for p in self.problems)]
        if note:
            lines.append(f"({note})")
        super().__init__("\n".join(lines))
