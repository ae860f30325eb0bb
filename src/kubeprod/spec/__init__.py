"""The environment spec: model, loading with file:line errors, the production profile."""

from kubeprod.spec.loader import load_spec

__all__ = ["load_spec"]
