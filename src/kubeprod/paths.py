"""Where kubeprod keeps its records (the one place that resolves KUBEPROD_HOME), and
where a render goes by default.

`$KUBEPROD_HOME` (default `./.kubeprod`, git-ignored) holds bundles, the change log,
the approvals log, snapshots and the embedded local cloud's files.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = ".kubeprod"


def home() -> Path:
    """$KUBEPROD_HOME, or ./.kubeprod when it is unset or empty; absolute."""
    return Path(os.environ.get("KUBEPROD_HOME") or DEFAULT_HOME).resolve()


def render_dir(environment: str, cloud: str) -> str:
    """Where `kubeprod render` writes a cloud's module unless told: infra/<env>/<cloud>
    (its kubernetes/ beside it is what the GitOps hookups read by default)."""
    return f"infra/{environment}/{cloud}"
