"""The environment spec: model, loading with file:line errors, the production profile.

`load_spec` is resolved on first use (PEP 562), so the pure modules of this package
(`versions`, `capacity`) import without pydantic: the policy gate uses them and starts
in a tenth of a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeprod.spec.loader import load_spec

__all__ = ["load_spec"]


def __getattr__(name: str) -> Any:
    if name == "load_spec":
        from kubeprod.spec.loader import load_spec

        return load_spec
    raise AttributeError(f"module 'kubeprod.spec' has no attribute {name!r}")
