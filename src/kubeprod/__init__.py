"""kubeprod: production Kubernetes on EKS, AKS and GKE from one reviewed spec."""

__version__ = "0.1.0"
