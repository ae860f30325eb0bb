"""The review of a plan bundle (CHG-2, CHG-4): what changes, grouped by concern,
what is risky and why, the policy result, and the rollback plan.

`to_markdown` is the pull-request comment; `to_text` the terminal view; the
dict from `review` is the JSON.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

from kubeprod.change import changelog
from kubeprod.change.bundle import MODULE_DIR, Bundle
from kubeprod.change.refused import GateRefused
from kubeprod.terraform.runner import Terraform, TerraformError

CONCERNS = ("network", "cluster", "nodes", "security", "observability", "other")
_CONCERN_PATTERNS: list[tuple[str, str]] = [
    ("nodes", r"node_group|node_pool|launch_template|autoscaling|nodepool"),
    ("cluster", r"eks_cluster|eks_addon|eks_access|kubernetes_cluster|container_cluster|backup"),
    (
        "security",
        r"kms|iam|security_group|key_vault|disk_encryption|bucket_policy|"
        r"role_assignment|user_assigned_identity|service_account|management_lock",
    ),
    ("observability", r"cloudwatch|log|monitor|sns|alarm|alert|diagnostic|insights"),
    (
        "network",
        r"vpc|subnet|nat|eip|route|internet_gateway|network|public_ip|router|firewall|address",
    ),
]
CLUSTER_TYPES = ("aws_eks_cluster", "azurerm_kubernetes_cluster", "google_container_cluster")
NODE_TYPES = (
    "aws_eks_node_group",
    "azurerm_kubernetes_cluster_node_pool",
    "google_container_node_pool",
)
KEY_TYPES = ("aws_kms_key", "azurerm_key_vault_key", "google_kms_crypto_key")
# attributes whose change on a node group rolls every node in it
ROLLING = ("launch_template", "release_version", "ami_type", "instance_types", "version")
ALLOW_LIST = re.compile(r"public_access_cidrs|authorized_ip_ranges|cidr_block")
ENCRYPTION = re.compile(r"encrypt|kms|key_arn|key_id|key_name|sse")
LOGGING = re.compile(r"log|retention")
STATEFUL = ("aws_s3_bucket", "aws_cloudwatch_log_group", "aws_backup_vault", "aws_db_instance")


def concern_of(resource_type: str) -> str:
    for concern, pattern in _CONCERN_PATTERNS:
        if re.search(pattern, resource_type):
            return concern
    return "other"


def action_of(actions: list[str]) -> str:
    if actions == ["create"]:
        return "create"
    if actions == ["update"]:
        return "update"
    if actions == ["delete"]:
        return "delete"
    if "delete" in actions and "create" in actions:
        return "replace"
    return "no-op" if actions in (["no-op"], ["read"]) else "+".join(actions)


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_leaves(inner, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for index, inner in enumerate(value):
            out.update(_leaves(inner, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def attribute_diff(change: dict[str, Any]) -> list[dict[str, Any]]:
    """Leaf attributes that differ between before and after (unknowns shown as such)."""
    before = _leaves(change.get("before") or {})
    after = _leaves(change.get("after") or {})
    unknown = _leaves(change.get("after_unknown") or {})
    diffs = []
    for key in sorted(set(before) | set(after) | {k for k, v in unknown.items() if v is True}):
        if key in ("tags_all",) or key.startswith("tags_all."):
            continue
        old, new = before.get(key), after.get(key)
        if unknown.get(key) is True:
            if old is not None:
                diffs.append({"attribute": key, "before": old, "after": "(known after apply)"})
        elif old != new:
            diffs.append({"attribute": key, "before": old, "after": new})
    return diffs


def _cidrs(value: Any) -> list[str]:
    found = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            try:
                found.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                continue
    return found


def _allow_list_widened(diffs: list[dict[str, Any]]) -> list[str]:
    widened = []
    for diff in diffs:
        if not ALLOW_LIST.search(diff["attribute"]):
            continue
        before = [ipaddress.ip_network(c) for c in _cidrs(diff["before"])]
        for cidr in _cidrs(diff["after"]):
            net = ipaddress.ip_network(cidr)
            if not any(
                net.version == b.version and net.subnet_of(b)  # type: ignore[arg-type]
                for b in before
            ):
                widened.append(cidr)
    return widened


def prevent_destroy_addresses(bundle: Bundle) -> set[str]:
    """Resource addresses the module marks `prevent_destroy = true` (CHR-1)."""
    found: set[str] = set()
    pattern = re.compile(r'^resource\s+"([^"]+)"\s+"([^"]+)"\s*\{(.*?)^\}', re.M | re.S)
    for path in sorted((bundle.path / MODULE_DIR).glob("*.tf")):
        for rtype, name, body in pattern.findall(path.read_text()):
            if re.search(r"prevent_destroy\s*=\s*true", body):
                found.add(f"{rtype}.{name}")
    return found


def risks_of(
    change: dict[str, Any], action: str, diffs: list[dict[str, Any]], guarded: set[str]
) -> list[str]:
    """Why this change is risky, one sentence each (empty when it is not)."""
    rtype, address = change["type"], change["address"]
    base = re.sub(r"\[.*?\]$", "", address)
    risks = []
    removing = action in ("delete", "replace")
    if removing and base in guarded:
        risks.append(
            f"{address} is under prevent_destroy (CHR-1): terraform refuses to destroy it; "
            "this plan cannot apply without removing that guard on purpose"
        )
    if rtype in CLUSTER_TYPES and removing:
        risks.append(
            "the cluster itself is "
            + ("replaced" if action == "replace" else "destroyed")
            + ": every workload stops, the API endpoint and its certificate change, "
            "and in-cluster state (etcd) is lost unless restored from backup"
        )
    if rtype in NODE_TYPES and action == "replace":
        risks.append(
            f"node group {change.get('name')} is replaced: a new group is created and the old "
            "one drained and deleted; every pod on it is evicted and rescheduled"
        )
    if rtype in NODE_TYPES and action == "update":
        tops = {re.sub(r"\[\d+\]", "", d["attribute"]).split(".")[0] for d in diffs}
        rolled = sorted(tops & set(ROLLING))
        if rolled:
            risks.append(
                f"node group {change.get('name')}: changing {', '.join(rolled)} rolls every "
                "node (drain, replace, one batch at a time per update_config)"
            )
    if rtype in KEY_TYPES and removing:
        risks.append(
            f"KMS key {address} is scheduled for deletion: data encrypted with it (secrets, "
            "volumes, logs, state) becomes unreadable once the deletion window ends"
        )
    widened = _allow_list_widened(diffs) if action in ("update", "replace", "create") else []
    if widened and action != "create":
        risks.append(
            f"the public allow-list gets wider: {', '.join(widened)} can now reach {address}"
        )
    if action != "create":
        enc = sorted({d["attribute"] for d in diffs if ENCRYPTION.search(d["attribute"])})
        if enc:
            risks.append(f"encryption setting changes ({', '.join(enc[:4])})")
        logs = sorted({d["attribute"] for d in diffs if LOGGING.search(d["attribute"])} - set(enc))
        if logs:
            risks.append(f"logging setting changes ({', '.join(logs[:4])})")
    if rtype in STATEFUL and removing:
        risks.append(f"{address} holds data that is lost when it is destroyed")
    return risks


def _irreversible(change: dict[str, Any], action: str) -> str | None:
    rtype = change["type"]
    if action not in ("delete", "replace"):
        return None
    if rtype in CLUSTER_TYPES:
        return (
            f"{change['address']}: a replaced cluster is a new cluster; re-applying builds "
            "another new one, not the old one"
        )
    if rtype in KEY_TYPES:
        return (
            f"{change['address']}: a deleted key cannot come back after its deletion window; "
            "cancel the deletion (aws kms cancel-key-deletion) inside it"
        )
    if rtype in NODE_TYPES:
        return f"{change['address']}: the old nodes are gone; re-applying makes new ones"
    if rtype in STATEFUL:
        return f"{change['address']}: its data is destroyed with it"
    return None


def review(bundle: Bundle) -> dict[str, Any]:
    """The review as data: counts, changes by concern, risks, policy, rollback plan."""
    plan = bundle.plan_json()
    manifest = bundle.manifest
    guarded = prevent_destroy_addresses(bundle)
    groups: dict[str, list[dict[str, Any]]] = {c: [] for c in CONCERNS}
    counts = {"create": 0, "update": 0, "replace": 0, "delete": 0}
    risky, irreversible = [], []
    for change in plan.get("resource_changes", []):
        if change.get("mode") == "data":
            continue
        action = action_of(change["change"]["actions"])
        if action == "no-op":
            continue
        counts[action] = counts.get(action, 0) + 1
        diffs = attribute_diff(change["change"]) if action in ("update", "replace") else []
        risks = risks_of(change, action, diffs, guarded)
        item = {
            "address": change["address"],
            "type": change["type"],
            "action": action,
            "attributes": diffs,
            "replace_because": [
                ".".join(str(p) for p in path)
                for path in change["change"].get("replace_paths", []) or []
            ],
            "risks": risks,
        }
        groups[concern_of(change["type"])].append(item)
        risky += [{"address": change["address"], "why": r} for r in risks]
        note = _irreversible(change, action)
        if note:
            irreversible.append(note)
    state = manifest.get("state", {})
    previous = changelog.last_success(manifest["environment"], manifest.get("target", "aws"))
    git = manifest.get("git", {})
    revision = (previous or {}).get("spec_revision") or (
        f"{git['commit']}~1" if git.get("commit") else None
    )
    snapshot_key = (
        f"{manifest['environment']}/aws/snapshots/<apply time>-{bundle.plan_sha256[:12]}.tfstate"
    )
    return {
        "bundle": str(bundle.path),
        "id": bundle.id,
        "environment": manifest["environment"],
        "kind": manifest.get("kind", "change"),
        "plan_sha256": bundle.plan_sha256,
        "created_at": manifest.get("created_at"),
        "git": git,
        "counts": counts,
        "no_changes": not any(counts.values()),
        "changes": {c: items for c, items in groups.items() if items},
        "risks": risky,
        "policy": manifest.get("policy", {}),
        "rollback": {
            "snapshot": {
                "state_serial": state.get("serial"),
                "lineage": state.get("lineage"),
                "s3": f"s3://{state.get('bucket')}/{snapshot_key}",
                "local": str(changelog.home() / "snapshots" / manifest["environment"]),
            },
            "revision": revision,
            "revision_source": "last successful apply" if previous else "parent commit",
            "command": (
                f"kubeprod rollback {manifest['spec_path']} --to {revision}"
                + (" --local" if manifest.get("local") else "")
                if revision
                else "no earlier revision known: restore the snapshot with "
                "`kubeprod state restore SNAPSHOT --yes`"
            ),
            "irreversible": irreversible,
        },
    }


def verify_against_binary(bundle: Bundle) -> str:
    """Re-derive the reviewed JSON from plan.tfplan (`terraform show -json`), so the
    review shows what would be applied; NotApproved-style refusal when they differ."""
    workdir = Path(bundle.manifest["workdir"])
    if not (workdir / ".terraform").is_dir():
        return "not checked here (no initialised module); `kubeprod apply` checks it"
    try:
        shown = Terraform(workdir).show_json(str(bundle.plan_file))
    except (TerraformError, ValueError) as exc:
        raise GateRefused(
            f"terraform cannot read {bundle.plan_file} ({str(exc).splitlines()[-1]}): the "
            "bundle is damaged. Fix: plan again"
        ) from None
    problems = bundle.reviewed_plan_problems(shown)
    if problems:
        raise GateRefused(
            f"bundle {bundle.id} cannot be reviewed: " + "; ".join(problems) + ". Someone "
            "edited plan.json or swapped plan.tfplan. Fix: plan again; never edit a bundle"
        )
    return "plan.json matches plan.tfplan (terraform show -json)"


def _value(value: Any) -> str:
    text = str(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def _policy_line(policy: dict[str, Any]) -> str:
    if not policy.get("available"):
        return policy.get("note", "policy gate not available")
    if policy.get("error"):
        return f"FAILED: the policy gate crashed: {policy['error']}"
    if policy.get("passed"):
        return "passed"
    rules = (policy.get("report") or {}).get("rules") or {}
    failed = sorted(rule for rule, status in rules.items() if status == "fail")
    return "FAILED" + (f": {', '.join(failed)}" if failed else "")


def _counts_line(counts: dict[str, int]) -> str:
    return (
        f"{counts['create']} to add, {counts['update']} to change in place, "
        f"{counts['replace']} to replace, {counts['delete']} to destroy"
    )


def to_markdown(data: dict[str, Any]) -> str:
    git = data["git"]
    lines = [
        f"## kubeprod plan review: {data['environment']}"
        + (" (rollback)" if data["kind"] == "rollback" else ""),
        "",
        f"**{_counts_line(data['counts'])}**",
        "",
        f"- plan `{data['plan_sha256'][:12]}` (bundle `{data['id']}`, {data['created_at']})",
        f"- spec revision `{str(git.get('commit') or 'not in git')[:12]}` on "
        f"`{git.get('branch') or '-'}`, tree {'clean' if git.get('clean') else 'DIRTY'}",
        f"- policy: {_policy_line(data['policy'])}",
        f"- reviewed plan: {data.get('verified', 'not checked')}",
        "",
    ]
    if data["no_changes"]:
        lines += ["No changes: the infrastructure matches the spec.", ""]
    lines += ["### Risks", ""]
    if data["risks"]:
        lines += [f"- :warning: `{r['address']}`: {r['why']}" for r in data["risks"]]
    else:
        lines.append("None found.")
    lines.append("")
    for concern, items in data["changes"].items():
        lines += [f"### {concern.capitalize()} ({len(items)})", ""]
        lines += ["| action | resource | what changes |", "|---|---|---|"]
        for item in items:
            what = "; ".join(
                f"`{d['attribute']}` {_value(d['before'])} → {_value(d['after'])}"
                for d in item["attributes"][:6]
            )
            if item["replace_because"]:
                what += f" (replaced because of {', '.join(item['replace_because'])})"
            lines.append(f"| {item['action']} | `{item['address']}` | {what or '-'} |")
        lines.append("")
    rb = data["rollback"]
    lines += [
        "### Rollback plan",
        "",
        f"- state snapshot before apply: serial {rb['snapshot']['state_serial']}, "
        f"kept in `{rb['snapshot']['local']}` and `{rb['snapshot']['s3']}`",
        f"- revision to return to: `{rb['revision'] or 'none recorded'}` "
        f"({rb['revision_source']}): `{rb['command']}`",
        "- cannot be undone by re-applying: "
        + (
            "none; re-applying the previous revision restores every attribute"
            if not rb["irreversible"]
            else ""
        ),
    ]
    lines += [f"  - {note}" for note in rb["irreversible"]]
    lines += ["", f"Approve: `kubeprod approve {data['id']} --by NAME`"]
    return "\n".join(lines) + "\n"


def to_text(data: dict[str, Any]) -> str:
    text = to_markdown(data)
    text = re.sub(r"^#+ ", "", text, flags=re.M)
    return text.replace("**", "").replace("`", "").replace(":warning: ", "! ")
