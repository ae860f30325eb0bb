"""The brief's numeric thresholds, written once.

The production profile (what `validate` accepts) and the policy gate's defaults
(`kubeprod.policy.rules.Options`, what `check` judges without a spec) both read
them; with a spec, the gate takes the spec's own values
(`Options.from_spec`), so what `validate` accepts, `render`, `plan` and `up` pass.
A leaf module.
"""

from __future__ import annotations

MAX_PUBLIC_PREFIX = 24  # SEC-2: no allow-listed range wider than /24 unless the spec says so
MIN_ZONES = 3  # CHR-3 / NET-5 / CHR-5
SYSTEM_MIN_NODES = 3  # K8S-2
WORKLOAD_MIN_NODES = 3  # K8S-3
WORKLOAD_MAX_NODES = 20  # K8S-3: the autoscaling ceiling reaches this
KMS_DELETION_WINDOW_DAYS = 30  # CHR-1
SCALE_DOWN_MIN_MINUTES = 10  # CHR-6: scale-down delays at least this (autoscaler default)
SCALE_DOWN_MAX_THRESHOLD = 0.5  # CHR-6: utilisation threshold at most this (default)
LOG_RETENTION_DAYS = 365  # K8S-7
