"""The in-cluster production baseline: plain Kubernetes manifests per cloud.

spec `cluster:` section -> manifest objects (`objects`, `autoscaler`, `gitops`)
-> YAML files + kustomization.yaml under `<render dir>/kubernetes/` (`render`).
Offline checks: pod security restricted (`pss`), PDB drain lint (`pdb_lint`),
who-may-talk-to-whom over NetworkPolicies (`reachability`), Kubernetes OpenAPI
schemas (`schema`). Delivery through the change process: `delivery`.
"""
