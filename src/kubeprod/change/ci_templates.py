"""CHG-1: every change through a pull request. CI files that run kubeprod there.

GitHub Actions: plan + review comment on every pull request; apply only from main
after merge, inside a maintenance window, behind the GitHub environment's
required reviewers. Atlantis: custom plan/apply workflows calling kubeprod.
"""

from __future__ import annotations

from pathlib import Path

GITHUB_PATH = ".github/workflows/kubeprod.yml"
ATLANTIS_PATH = "atlantis.yaml"


def github_workflow(spec: str, environment: str, python: str = "3.11") -> str:
    """The Actions workflow text for one spec (AWS: OIDC role from repository variables)."""
    return f"""# Written by `kubeprod ci github`. CHG-1..5: plan and review on every pull request;
# apply only from main after merge, inside a maintenance window, after the
# "{environment}" environment's required reviewers approve (Settings > Environments).
name: kubeprod {environment}

on:
  pull_request:
    paths: ["{spec}", ".github/workflows/kubeprod.yml"]
  push:
    branches: [main]
    paths: ["{spec}"]
  workflow_dispatch: {{}}

permissions:
  contents: read

concurrency:
  group: kubeprod-{environment}
  cancel-in-progress: false

env:
  SPEC: {spec}
  AWS_REGION: ${{{{ vars.AWS_REGION }}}}

jobs:
  plan:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
      pull-requests: write
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-python@v6
        with:
          python-version: "{python}"
      - uses: hashicorp/setup-terraform@v3
        with:
          terraform_version: "1.11.4"
          terraform_wrapper: false
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: ${{{{ vars.KUBEPROD_PLAN_ROLE_ARN }}}}
          aws-region: ${{{{ vars.AWS_REGION }}}}
      - run: pip install kubeprod
      - name: Plan into a bundle
        id: plan
        run: |
          kubeprod --output json plan "$SPEC" --cloud aws > plan-result.json
          echo "bundle=$(jq -r .bundle plan-result.json)" >> "$GITHUB_OUTPUT"
      - name: Review
        env:
          BUNDLE: ${{{{ steps.plan.outputs.bundle }}}}
        run: kubeprod review "$BUNDLE" --format md > review.md
      - name: Comment the review on the pull request
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          PR: ${{{{ github.event.pull_request.number }}}}
        run: |
          gh pr comment "$PR" --body-file review.md --edit-last \
            || gh pr comment "$PR" --body-file review.md
      - uses: actions/upload-artifact@v6
        with:
          name: kubeprod-plan
          path: review.md

  apply:
    if: >-
      (github.event_name == 'push' || github.event_name == 'workflow_dispatch')
      && github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    environment: {environment}
    permissions:
      contents: read
      id-token: write
    env:
      KUBEPROD_NOTIFY_URL: ${{{{ secrets.KUBEPROD_NOTIFY_URL }}}}
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-python@v6
        with:
          python-version: "{python}"
      - uses: hashicorp/setup-terraform@v3
        with:
          terraform_version: "1.11.4"
          terraform_wrapper: false
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: ${{{{ vars.KUBEPROD_APPLY_ROLE_ARN }}}}
          aws-region: ${{{{ vars.AWS_REGION }}}}
      - run: pip install kubeprod
      - name: Inside a maintenance window?
        run: kubeprod windows "$SPEC" --check
      - name: Plan, review, apply
        env:
          APPROVER: ${{{{ github.triggering_actor }}}}
        run: |
          kubeprod --output json plan "$SPEC" --cloud aws > plan-result.json
          BUNDLE=$(jq -r .bundle plan-result.json)
          kubeprod review "$BUNDLE" --format md >> "$GITHUB_STEP_SUMMARY"
          kubeprod approve "$BUNDLE" --by "github-environment:{environment}:$APPROVER"
          kubeprod apply "$BUNDLE" --by "$APPROVER"
      - name: Keep the change log and snapshot
        if: always()
        uses: actions/upload-artifact@v6
        with:
          name: kubeprod-change
          path: .kubeprod/changelog
"""


def atlantis_yaml(spec: str, environment: str) -> str:
    """atlantis.yaml: one project per environment with kubeprod custom workflows."""
    return f"""# Written by `kubeprod ci atlantis`. Atlantis applies from the pull request
# (before merge) once it is approved and mergeable; kubeprod still enforces the
# maintenance window and approval binding, and records the provenance override.
version: 3
automerge: true
projects:
  - name: {environment}-aws
    dir: .
    workflow: kubeprod
    autoplan:
      enabled: true
      when_modified: ["{spec}"]
    apply_requirements: [approved, mergeable]
workflows:
  kubeprod:
    plan:
      steps:
        - run: kubeprod --output json plan {spec} --cloud aws > kubeprod-plan.json
        - run: kubeprod review "$(jq -r .bundle kubeprod-plan.json)" --format md
    apply:
      steps:
        - run: kubeprod windows {spec} --check
        - run: kubeprod approve "$(jq -r .bundle kubeprod-plan.json)" --by "atlantis:$USER_NAME"
        - run: >-
            kubeprod apply "$(jq -r .bundle kubeprod-plan.json)" --by "$USER_NAME"
            --override-provenance
            --reason "atlantis apply from PR #$PULL_NUM ($HEAD_BRANCH_NAME), approved and mergeable"
"""


def write(kind: str, spec: str, environment: str, out: str | None, force: bool) -> Path:
    """Write the CI file; refuse to overwrite one without --force."""
    from kubeprod.errors import InputError

    path = Path(out or (GITHUB_PATH if kind == "github" else ATLANTIS_PATH))
    if path.exists() and not force:
        raise InputError(f"{path} exists. Fix: pass --force to overwrite it, or --out elsewhere")
    text = (
        github_workflow(spec, environment) if kind == "github" else atlantis_yaml(spec, environment)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
