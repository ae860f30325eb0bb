kubernetes_version = "1.35"
