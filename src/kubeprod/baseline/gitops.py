"""GitOps hookup of the baseline, a spec option (`cluster.gitops.mode`).

- flux on EKS: a Flux `GitRepository` + `Kustomization` (flux-system) pointing at
  the render's kubernetes/ directory; Flux itself is installed by `flux bootstrap`.
- argocd on EKS: an Argo CD `Application` with server-side apply.
- flux on AKS: the `microsoft.flux` extension and flux configuration are Azure
  resources, rendered into the AKS module's gitops.tf (clouds/azure_gitops.py).
- config-sync on GKE: Config Sync is a fleet feature configured in Terraform, with the
  repository, branch and directory (clouds/gcp_gitops.py, gitops.tf); it creates the
  `root-sync` RootSync itself, so no RootSync manifest is rendered (one owner per object).
Mode `none` (default): `kubeprod cluster plan/apply` delivers the manifests.
"""

from __future__ import annotations

from kubeprod.baseline.objects import Obj, meta
from kubeprod.spec.model import Environment


def _source(env: Environment, cloud: str) -> tuple[str, str, str]:
    g = env.cluster.gitops
    return str(g.repository), g.branch, g.path_for(env.name, cloud)


def flux(env: Environment, cloud: str) -> list[Obj]:
    repo, branch, path = _source(env, cloud)
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": meta("kubeprod-baseline", "flux-system"),
            "spec": {"interval": "5m", "url": repo, "ref": {"branch": branch}},
        },
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": meta("kubeprod-baseline", "flux-system"),
            "spec": {
                "interval": "10m",
                "path": f"./{path}",
                "prune": False,
                "wait": True,
                "sourceRef": {"kind": "GitRepository", "name": "kubeprod-baseline"},
            },
        },
    ]


def argocd(env: Environment, cloud: str) -> list[Obj]:
    repo, branch, path = _source(env, cloud)
    return [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": meta("kubeprod-baseline", "argocd"),
            "spec": {
                "project": "default",
                "source": {"repoURL": repo, "targetRevision": branch, "path": path},
                "destination": {"server": "https://kubernetes.default.svc"},
                "syncPolicy": {"syncOptions": ["ServerSideApply=true"]},
            },
        }
    ]


def manifest_files(env: Environment, cloud: str) -> dict[str, list[Obj]]:
    """Extra files under kubernetes/gitops-*.yaml, or none.

    They are not in kustomization.yaml: the controller's own objects are applied
    once by hand (`kubectl apply -f`), then the controller applies the rest."""
    mode = env.cluster.gitops.mode
    if mode == "flux" and cloud == "aws":
        return {"gitops-flux.yaml": flux(env, cloud)}
    if mode == "argocd" and cloud == "aws":
        return {"gitops-argocd.yaml": argocd(env, cloud)}
    return {}
