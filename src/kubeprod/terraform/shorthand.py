"""Moved to `kubeprod.hcl.shorthand`. This alias keeps branches written before the move
importing; new code imports `kubeprod.hcl.shorthand`. Remove once none do."""

from kubeprod.hcl.shorthand import *  # noqa: F403
