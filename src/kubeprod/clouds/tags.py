"""Requirement tags: the comment above a block or attribute naming the IDs it serves.

`tag(Req.SEC_8, Req.SEC_3, note="customer-managed keys, rotated.")` writes
`# SEC-8 / SEC-3: customer-managed keys, rotated.` in the render. `kubeprod explain`,
the README's feature table and the coverage test read these tags from the render
(`kubeprod.explain.scan_tags`): a top-level tag covers the blocks up to the next
top-level comment, a tag inside a block the line after it.
"""

from __future__ import annotations

from kubeprod.hcl import Comment
from kubeprod.requirements import Req


def tag(*reqs: Req, note: str = "") -> Comment:
    """The tag comment for `reqs` (at least one), with an optional note after the IDs."""
    if not reqs or not all(isinstance(r, Req) for r in reqs):
        raise TypeError("tag() takes one or more kubeprod.requirements.Req members")
    ids = " / ".join(r.value for r in reqs)
    return Comment(f"{ids}: {note}" if note else ids)
