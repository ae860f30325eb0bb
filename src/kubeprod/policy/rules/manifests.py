"""Judging the in-cluster baseline's manifests (SEC-5, SEC-6, CHR-6).

A workload namespace is a Namespace object of the manifests that is not a
platform namespace (kubeprod labels its own `kubeprod.io/namespace-role`;
plain manifests are classified by name, see kubeprod.facts.system_namespaces).
"""

from __future__ import annotations

from typing import Any

from kubeprod.baseline.load import labels_of, name_of, namespace_of, of_kind
from kubeprod.baseline.objects import ROLE_LABEL
from kubeprod.baseline.pss import check_objects
from kubeprod.facts.system_namespaces import is_system
from kubeprod.policy.rules.base import Ctx

PSS_ENFORCE = "pod-security.kubernetes.io/enforce"
NO_MANIFESTS = (
    "not judged: no manifests (render with `kubeprod render`, or pass a directory of manifests)"
)


def workload_namespaces(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for ns in of_kind(objs, "Namespace"):
        role = labels_of(ns).get(ROLE_LABEL)
        if role == "workload" or (role is None and not is_system(name_of(ns))):
            out.append(ns)
    return out


def _at(obj: dict[str, Any]) -> tuple[str, None, None]:
    ns = (obj.get("metadata") or {}).get("namespace")
    return (f"{obj.get('kind')}/{ns + '/' if ns else ''}{name_of(obj)}", None, None)


def _isolates(policy: dict[str, Any], direction: str) -> bool:
    """The policy selects every pod, lists `direction` and allows nothing that way."""
    spec = policy.get("spec") or {}
    selector = spec.get("podSelector")
    if selector is None or selector.get("matchLabels") or selector.get("matchExpressions"):
        return False
    types = spec.get("policyTypes") or ["Ingress", *(["Egress"] if spec.get("egress") else [])]
    return direction in types and not spec.get(direction.lower())


def _workload(ctx: Ctx, what: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(objects, workload namespaces); records not-judged / a failure when there are none."""
    objs = ctx.model.manifests
    if objs is None:
        ctx.not_judged(f"{what} {NO_MANIFESTS}")
        return [], []
    namespaces = workload_namespaces(objs)
    if not namespaces:
        ctx.fail(
            None,
            "the manifests hold no workload namespace",
            "Namespace",
            "declare workload namespaces in the spec's cluster.namespaces",
            at=("kubernetes", None, None),
        )
    return objs, namespaces


def run_rule(rule: Any, model: Any, cloud: str, options: Any, judge: Any) -> list[Any]:
    """A rule with a configuration part (`_<cloud>`, skipped on plain manifests) and a
    manifest part (`judge`)."""
    ctx = Ctx(rule, model, cloud, options)
    if model.source != "manifests":
        getattr(rule, f"_{cloud}")(ctx)
    judge(ctx)
    return ctx.findings


def judge_default_deny(ctx: Ctx) -> None:
    """SEC-5: a default-deny for ingress and egress in every workload namespace."""
    objs, namespaces = _workload(ctx, "default-deny NetworkPolicies")
    policies = of_kind(objs, "NetworkPolicy")
    for ns in namespaces:
        mine = [p for p in policies if namespace_of(p) == name_of(ns)]
        missing = [d for d in ("Ingress", "Egress") if not any(_isolates(p, d) for p in mine)]
        if missing:
            ctx.fail(
                None,
                f"namespace {name_of(ns)} has no default-deny for {' and '.join(missing)}",
                "NetworkPolicy",
                "add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] "
                "and no rules (kubeprod render writes default-deny-all)",
                at=_at(ns),
            )
        else:
            ctx.ok(None, f"namespace {name_of(ns)}: default deny ingress and egress", at=_at(ns))


def judge_restricted(ctx: Ctx) -> None:
    """SEC-6: every workload namespace enforces `restricted`; its pods meet it."""
    objs, namespaces = _workload(ctx, "pod security namespace labels")
    restricted = set()
    for ns in namespaces:
        level = labels_of(ns).get(PSS_ENFORCE)
        if level == "restricted":
            restricted.add(name_of(ns))
            ctx.ok(None, f"{PSS_ENFORCE} = restricted", f"labels.{PSS_ENFORCE}", at=_at(ns))
        else:
            ctx.fail(
                None,
                f"namespace {name_of(ns)}: {PSS_ENFORCE} is {level or 'unset'}",
                f"metadata.labels[{PSS_ENFORCE}]",
                '"restricted"',
                at=_at(ns),
            )
    pods = [o for o in objs if namespace_of(o) in restricted]
    for v in check_objects(pods):
        ctx.fail(
            None,
            f"{v.obj} would be rejected by restricted enforcement: [{v.check}] {v.detail}",
            "securityContext",
            "meet the restricted Pod Security Standard",
            at=(v.obj, None, None),
        )


def autoscaler_flags(objs: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]] | None:
    """(the Cluster Autoscaler Deployment, its flags) from the manifests, or None."""
    for obj in of_kind(objs, "Deployment"):
        spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        for c in spec.get("containers") or []:
            if "cluster-autoscaler" in str(c.get("image", "")):
                return obj, [*(c.get("command") or []), *(c.get("args") or [])]
    return None
