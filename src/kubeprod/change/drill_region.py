"""The region-loss drill: the failover runbook of docs/dr.md, executed on the local cloud.

1. Recovery point: state, change log and drill history copied to the recovery region.
2. The primary region is lost: the local cloud drops every regional service's data of it
   (IAM, global, survives as on AWS).
3. Declared; recovery started: the copies are read back from the recovery region and
   checked against their hashes.
4. A recovery spec (region and zones moved to the recovery region) is bootstrapped there
   (the state bucket's replica becomes its state bucket: kubeprod.clouds.aws_state_failover),
   the state read back is pushed into its new backend (moto never replicates), and the
   environment is rebuilt from the code through the change process (emergency change with
   the drill's ID).
5. Verified: the checks of `up` in the recovery region and a clean second plan.

RPO = declared - the time of the recovery point restored (the replicated state).
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from kubeprod import workflow
from kubeprod.change import dr_replicate
from kubeprod.change.drill_record import Drill, repair, verify
from kubeprod.clouds.aws_state_replication import replica_bucket_name
from kubeprod.dr import history
from kubeprod.dr.regions import recovery_zones
from kubeprod.errors import InputError, KubeprodError
from kubeprod.local.moto_server import LOSE_REGION_PATH
from kubeprod.local.server import ca_bundle


def lose_region(endpoint: str, region: str) -> dict[str, Any]:
    """Ask the local cloud to drop one region (kubeprod.local.moto_server.lose_region)."""
    context = ssl.create_default_context(cafile=str(ca_bundle()))
    request = urllib.request.Request(
        f"{endpoint}{LOSE_REGION_PATH}?region={region}", data=b"", method="POST"
    )
    with urllib.request.urlopen(request, context=context, timeout=60) as response:
        return dict(json.loads(response.read()))


def recovery_spec(spec: str, env: Any, into: Path) -> Path:
    """The spec moved to the recovery region: what the failover commits (docs/dr.md)."""
    data = yaml.safe_load(Path(spec).read_text(encoding="utf-8"))
    aws = data["clouds"]["aws"]
    primary, recovery = aws["region"], env.dr.recovery_region.aws
    aws["region"] = recovery
    aws["zones"] = recovery_zones(list(aws["zones"]), primary, recovery)
    # the old primary becomes where the copies go, once it is back
    data.setdefault("dr", {}).setdefault("recovery_region", {})["aws"] = primary
    # a named state bucket: the moved environment's state bucket is its CRR replica
    named = ((data.get("state") or {}).get("aws") or {}).get("bucket")
    if named:
        data["state"]["aws"]["bucket"] = replica_bucket_name(env, "", recovery)
    into.mkdir(parents=True, exist_ok=True)
    path = into / Path(spec).name
    header = f"# kubeprod DR failover of {spec}: {primary} -> {recovery}\n"
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run(
    drill: Drill, spec: str, *, local: bool, approve_by: str | None, say: Callable[[str], None]
) -> dict[str, Any]:
    if not local:
        raise InputError(
            "a region-loss drill cannot take a real AWS region away: fail over with the "
            "runbook of docs/dr.md (the same steps, run by hand against the recovery region)"
        )
    target = workflow.target_for(spec, "aws", local)
    backend = workflow.backend_outputs(target)
    tf = workflow.prepare(target, backend)
    if not tf.output_json().get("nat_gateway_ids"):
        raise KubeprodError(
            f"'{target.env.name}' is not up on the local cloud: nothing to lose. Fix: "
            f"`kubeprod up {spec} --local` first"
        )
    say("recovery point: state, change log and drill history to the recovery region ...")
    point = dr_replicate.replicate(target, tf, backend)
    drill.note("recovery-point", bucket=point["bucket"], at=point["at"])
    aws = target.env.clouds.aws
    assert aws is not None  # drill.run refuses a spec without clouds.aws
    primary = aws.region
    say(f"lose region {primary} ...")
    lost = lose_region(str(target.endpoint), primary)
    drill.note("region-lost", **lost)
    declared = drill.step("declared")
    drill.step("recovery_started")
    work = history.home() / "dr" / target.env.name / drill.id
    back = dr_replicate.read_back(target, work / "read-back")
    drill.note("read-back", bucket=back["bucket"], objects=sorted(back["paths"]))
    moved = recovery_spec(spec, target.env, work)
    say(f"rebuild in {target.env.dr.recovery_region.aws} from {moved} ...")
    rtarget = workflow.target_for(str(moved), "aws", local)
    rtf = workflow.prepare(rtarget, workflow.backend_outputs(rtarget))
    rtf.run("state", "push", "-force", back["paths"][dr_replicate.STATE_KEY])
    drill.note("state-restored", serial=back.get("state_serial"))
    repair(drill, str(moved), local=local, approve_by=approve_by, say=say)
    drill.step("infrastructure_ready")
    verify(drill, rtarget, str(moved), local=local, say=say)
    drill.entry["recovery_spec"] = str(moved)
    rpo = (declared - history.parse_time(point["at"])).total_seconds() / 60
    return drill.finish(rpo, point["at"])
