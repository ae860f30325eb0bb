"""Terraform: the HCL block model and writer, the runner, plan reading."""
