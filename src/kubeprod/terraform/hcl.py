"""Moved to `kubeprod.hcl` (the block model is a leaf package). This alias keeps branches
written before the move importing; new code imports `kubeprod.hcl`. Remove once none do."""

from kubeprod.hcl import *  # noqa: F403
from kubeprod.hcl import quote, render_attributes, render_file, value_lines  # noqa: F401
