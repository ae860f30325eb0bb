"""DR-4 failover of the state backend: the replica bucket becomes the state bucket.

The state-backend module names its replica as the module of a spec moved to the recovery
region names its state bucket (`kubeprod-<env>-<account>-<region>`, in that region), so a
failover spec's bootstrap module wants, in the recovery region, exactly the bucket and key
the replication already keeps there, and a replica in the old primary region. In the
bootstrap module's own state the two sets of resources only swap names (`*.state` <->
`*.state_replica`); after these `terraform state mv` moves the failover plan updates the
surviving bucket in place (key description, alias) instead of replacing a bucket that is
protected by prevent_destroy, and re-creates only what the lost region took with it.
"""

from __future__ import annotations

from typing import Any

SOURCE, REPLICA = "state", "state_replica"
SWAP = "failover_swap"  # a name no rendered resource uses, for the three-way swap


def _managed(tfstate: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in tfstate.get("resources") or [] if r.get("mode") == "managed"]


def _bucket_region(resources: list[dict[str, Any]], name: str) -> Any:
    for r in resources:
        if r.get("type") == "aws_s3_bucket" and r.get("name") == name and r.get("instances"):
            return (r["instances"][0].get("attributes") or {}).get("region")
    return None


def failover_moves(tfstate: dict[str, Any], region: str) -> list[tuple[str, str]]:
    """The `terraform state mv` pairs that make the replica in `region` the state bucket
    (none unless the state has the replica there and the state bucket elsewhere)."""
    resources = _managed(tfstate)
    if _bucket_region(resources, REPLICA) != region or _bucket_region(resources, SOURCE) == region:
        return []
    names: dict[str, set[str]] = {}
    for r in resources:
        if r.get("name") in (SOURCE, REPLICA) and not r.get("module"):
            names.setdefault(r["type"], set()).add(r["name"])
    moves: list[tuple[str, str]] = []
    for type_, present in sorted(names.items()):
        if present == {SOURCE, REPLICA}:
            moves += [
                (f"{type_}.{SOURCE}", f"{type_}.{SWAP}"),
                (f"{type_}.{REPLICA}", f"{type_}.{SOURCE}"),
                (f"{type_}.{SWAP}", f"{type_}.{REPLICA}"),
            ]
        elif present == {REPLICA}:
            moves.append((f"{type_}.{REPLICA}", f"{type_}.{SOURCE}"))
        elif type_ != "aws_s3_bucket_replication_configuration":
            moves.append((f"{type_}.{SOURCE}", f"{type_}.{REPLICA}"))
    return moves
