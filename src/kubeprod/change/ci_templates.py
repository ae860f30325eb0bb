"""CHG-1: every change through a pull request. CI files that run kubeprod there.

GitHub Actions: plan + review comment on every pull request; apply only from main
after merge, inside a maintenance window, behind the GitHub environment's
required reviewers. Atlantis: custom plan/apply workflows calling kubeprod.
"""

from __future__ import annotations

from pathlib import Path

from kubeprod.errors import InputError

GITHUB_PATH = ".github/workflows/kubeprod.yml"
ATLANTIS_PATH = "atlantis.yaml"


SETUP = """      - uses: actions/checkout@v5
      - uses: actions/setup-python@v6
        with:
          python-version: "{python}"
      - uses: hashicorp/setup-terraform@v3
        with:
          terraform_version: "1.11.4"
          terraform_wrapper: false
"""

LOGIN = {
    "aws": """      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: ${{{{ vars.KUBEPROD_{role}_ROLE_ARN }}}}
          aws-region: ${{{{ vars.AWS_REGION }}}}
""",
    # azure/login with a federated credential on an app registration (no secret)
    "azure": """      - uses: azure/login@v3
        with:
          client-id: ${{{{ vars.AZURE_{role}_CLIENT_ID }}}}
          tenant-id: ${{{{ vars.AZURE_TENANT_ID }}}}
          subscription-id: ${{{{ vars.AZURE_SUBSCRIPTION_ID }}}}
""",
    # google-github-actions/auth with workload identity federation (no key file)
    "gcp": """      - uses: google-github-actions/auth@v3
        with:
          workload_identity_provider: ${{{{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}}}
          service_account: ${{{{ vars.GCP_{role}_SERVICE_ACCOUNT }}}}
""",
}

# Azure and GCP: kubeprod renders and gates; terraform plans and applies the saved plan.
TF_ENV = {
    "azure": """      ARM_USE_OIDC: "true"
      ARM_CLIENT_ID: ${{{{ vars.AZURE_{role}_CLIENT_ID }}}}
      ARM_TENANT_ID: ${{{{ vars.AZURE_TENANT_ID }}}}
      ARM_SUBSCRIPTION_ID: ${{{{ vars.AZURE_SUBSCRIPTION_ID }}}}
""",
    "gcp": "",
}


def _comment_review(only_on_pull_requests: bool = False) -> str:
    """The step that comments review.md on the pull request; it edits the job's last
    comment, so a re-run updates its review instead of adding another."""
    condition = "        if: github.event_name == 'pull_request'\n" if only_on_pull_requests else ""
    return (
        "      - name: Comment the review on the pull request\n"
        + condition
        + """        env:
          GH_TOKEN: ${{ github.token }}
          PR: ${{ github.event.pull_request.number }}
        run: |
          gh pr comment "$PR" --body-file review.md --edit-last \\
            || gh pr comment "$PR" --body-file review.md
"""
    )


def _login(cloud: str, role: str) -> str:
    return LOGIN[cloud].format(role=role)


def _header(spec: str, environment: str, cloud: str) -> str:
    return f"""# Written by `kubeprod ci github --cloud {cloud}`. CHG-1..5: plan and review on every
# pull request; after merge, plan main into a bundle, show its review, wait for the
# "{environment}" environment's required reviewers (Settings > Environments), and apply
# exactly that bundle (carried as an artifact, hash-bound, checked fresh).
name: kubeprod {environment} {cloud}

on:
  pull_request:
    paths: ["{spec}", ".github/workflows/kubeprod*.yml"]
  push:
    branches: [main]
    paths: ["{spec}"]
  workflow_dispatch: {{}}

permissions:
  contents: read

concurrency:
  group: kubeprod-{environment}-{cloud}
  cancel-in-progress: false

env:
  SPEC: {spec}
"""


def _aws_jobs(environment: str, python: str) -> str:
    setup = SETUP.format(python=python)
    return f"""
jobs:
  plan:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
      pull-requests: write
    steps:
{setup}{_login("aws", "PLAN")}      - run: pip install kubeprod
      - name: Read the kept change records
        run: kubeprod records pull "$SPEC"
      - name: Plan into a bundle
        id: plan
        run: |
          kubeprod --output json plan "$SPEC" --cloud aws > plan-result.json
          echo "bundle=$(jq -r .bundle plan-result.json)" >> "$GITHUB_OUTPUT"
      - name: Review
        env:
          BUNDLE: ${{{{ steps.plan.outputs.bundle }}}}
        run: kubeprod review "$BUNDLE" --format md > review.md
{_comment_review()}      - uses: actions/upload-artifact@v6
        with:
          name: kubeprod-review
          path: review.md

  plan-main:
    if: >-
      (github.event_name == 'push' || github.event_name == 'workflow_dispatch')
      && github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    outputs:
      bundle: ${{{{ steps.plan.outputs.bundle }}}}
      plan_sha256: ${{{{ steps.plan.outputs.plan_sha256 }}}}
    steps:
{setup}{_login("aws", "PLAN")}      - run: pip install kubeprod
      - name: Read the kept change records
        run: kubeprod records pull "$SPEC"
      - name: Plan main into the bundle the reviewers approve
        id: plan
        run: |
          kubeprod --output json plan "$SPEC" --cloud aws > plan-result.json
          BUNDLE=$(jq -r .bundle plan-result.json)
          echo "bundle=$BUNDLE" >> "$GITHUB_OUTPUT"
          echo "plan_sha256=$(jq -r .plan_sha256 plan-result.json)" >> "$GITHUB_OUTPUT"
          kubeprod review "$BUNDLE" --format md >> "$GITHUB_STEP_SUMMARY"
      - uses: actions/upload-artifact@v6
        with:
          name: kubeprod-bundle
          path: .kubeprod/bundles
          include-hidden-files: true
          if-no-files-found: error

  apply:
    needs: plan-main
    runs-on: ubuntu-latest
    environment: {environment}
    permissions:
      contents: read
      id-token: write
      actions: read
    env:
      KUBEPROD_NOTIFY_URL: ${{{{ secrets.KUBEPROD_NOTIFY_URL }}}}
      BUNDLE: ${{{{ needs.plan-main.outputs.bundle }}}}
      PLAN_SHA256: ${{{{ needs.plan-main.outputs.plan_sha256 }}}}
    steps:
{setup}{_login("aws", "APPLY")}      - run: pip install kubeprod
      - name: Read the kept change records
        run: kubeprod records pull "$SPEC"
      - name: Initialise the module directory (this run's plan is not applied)
        run: kubeprod plan "$SPEC" --cloud aws
      - name: The bundle the reviewers approved
        uses: actions/download-artifact@v7
        with:
          name: kubeprod-bundle
          path: .kubeprod/bundles
      - name: Inside a maintenance window?
        run: kubeprod windows "$SPEC" --check
      - name: Approve as the environment reviewer, apply exactly that bundle
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: |
          APPROVER=$(gh api "repos/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/approvals" \\
            --jq '[.[] | select(.state == "approved") | .user.login] | last')
          kubeprod approve "$BUNDLE" --plan-hash "$PLAN_SHA256" \\
            --by "github-environment:{environment}:$APPROVER"
          kubeprod apply "$BUNDLE" --by "$GITHUB_ACTOR"
      - name: Keep the change records beside the state
        if: always()
        run: kubeprod records push "$SPEC"
      - name: And as an artifact of this run
        if: always()
        uses: actions/upload-artifact@v6
        with:
          name: kubeprod-change
          path: .kubeprod/changelog
          include-hidden-files: true
"""


def _tf_jobs(cloud: str, environment: str, python: str) -> str:
    """Azure / GCP: render, init, plan, gate with `kubeprod check`; apply the saved plan."""
    setup = SETUP.format(python=python)
    workdir = f"infra/{environment}/{cloud}"
    init = (
        f'          terraform -chdir="{workdir}" init -input=false '
        '-backend-config="$BACKEND_CONFIG"\n'
    )
    tf_env = {role: TF_ENV[cloud].format(role=role) for role in ("PLAN", "APPLY")}
    return f"""
jobs:
  plan:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
      pull-requests: write
    env:
      BACKEND_CONFIG: ${{{{ vars.KUBEPROD_BACKEND_CONFIG }}}}
{tf_env["PLAN"]}    outputs:
      plan_sha256: ${{{{ steps.plan.outputs.plan_sha256 }}}}
    steps:
{setup}{_login(cloud, "PLAN")}      - run: pip install kubeprod
      - name: Render and gate the module
        run: kubeprod render "$SPEC" --cloud {cloud}
      - name: Plan and judge the plan
        id: plan
        run: |
{init}          terraform -chdir="{workdir}" plan -input=false -out=kubeprod.tfplan
          terraform -chdir="{workdir}" show -json kubeprod.tfplan > plan.json
          kubeprod check plan.json --cloud {cloud} --format markdown --out review.md
          echo "plan_sha256=$(sha256sum "{workdir}/kubeprod.tfplan" | cut -d' ' -f1)" \\
            >> "$GITHUB_OUTPUT"
          cat review.md >> "$GITHUB_STEP_SUMMARY"
{_comment_review(only_on_pull_requests=True)}      - uses: actions/upload-artifact@v6
        with:
          name: kubeprod-plan
          path: {workdir}/kubeprod.tfplan
          if-no-files-found: error

  apply:
    needs: plan
    if: >-
      (github.event_name == 'push' || github.event_name == 'workflow_dispatch')
      && github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    environment: {environment}
    permissions:
      contents: read
      id-token: write
    env:
      BACKEND_CONFIG: ${{{{ vars.KUBEPROD_BACKEND_CONFIG }}}}
      PLAN_SHA256: ${{{{ needs.plan.outputs.plan_sha256 }}}}
{tf_env["APPLY"]}    steps:
{setup}{_login(cloud, "APPLY")}      - run: pip install kubeprod
      - name: Inside a maintenance window?
        run: kubeprod windows "$SPEC" --check
      - run: kubeprod render "$SPEC" --cloud {cloud}
      - name: The plan the reviewers approved
        uses: actions/download-artifact@v7
        with:
          name: kubeprod-plan
          path: {workdir}
      - name: Apply exactly that plan (hash-checked; terraform refuses it if stale)
        run: |
{init}          echo "$PLAN_SHA256  {workdir}/kubeprod.tfplan" | sha256sum --check
          terraform -chdir="{workdir}" apply -input=false kubeprod.tfplan
"""


def github_workflow(spec: str, environment: str, python: str = "3.11", cloud: str = "aws") -> str:
    """The Actions workflow for one spec and cloud, with that cloud's OIDC login."""
    jobs = (
        _aws_jobs(environment, python) if cloud == "aws" else _tf_jobs(cloud, environment, python)
    )
    return _header(spec, environment, cloud) + jobs


def atlantis_yaml(spec: str, environment: str, cloud: str = "aws") -> str:
    """atlantis.yaml: one project per environment with kubeprod custom workflows.

    Atlantis applies the plan it made for the pull request (the reviewed plan), after
    the PR is approved and mergeable. The approval kubeprod records names the PR's
    approving reviewer (from the GitHub API), never the person who typed `atlantis apply`
    or made the plan. Cloud logins come from Atlantis' own environment (instance role,
    federated identity): Atlantis runs inside the cloud, not in Actions."""
    if cloud == "aws":
        steps = f"""    plan:
      steps:
        - run: kubeprod records pull {spec}
        - run: kubeprod --output json plan {spec} --cloud aws > kubeprod-plan.json
        - run: kubeprod review "$(jq -r .bundle kubeprod-plan.json)" --format md
    apply:
      steps:
        - run: kubeprod windows {spec} --check
        - run: >-
            kubeprod approve "$(jq -r .bundle kubeprod-plan.json)"
            --plan-hash "$(jq -r .plan_sha256 kubeprod-plan.json)"
            --by "github-review:$(gh api
            "repos/$BASE_REPO_OWNER/$BASE_REPO_NAME/pulls/$PULL_NUM/reviews"
            --jq '[.[] | select(.state == "APPROVED") | .user.login] | last')"
        - run: >-
            kubeprod apply "$(jq -r .bundle kubeprod-plan.json)" --by "$USER_NAME"
            --override-provenance
            --reason "atlantis apply from PR #$PULL_NUM ($HEAD_BRANCH_NAME), approved and mergeable"
        - run: kubeprod records push {spec}
"""
    else:
        workdir = f"infra/{environment}/{cloud}"
        steps = f"""    plan:
      steps:
        - run: kubeprod render {spec} --cloud {cloud}
        - run: >-
            terraform -chdir={workdir} init -input=false
            -backend-config="$KUBEPROD_BACKEND_CONFIG"
        - run: terraform -chdir={workdir} plan -input=false -out=$PLANFILE
        - run: terraform -chdir={workdir} show -json $PLANFILE > kubeprod-plan.json
        - run: kubeprod check kubeprod-plan.json --cloud {cloud} --format markdown
    apply:
      steps:
        - run: kubeprod windows {spec} --check
        - run: terraform -chdir={workdir} apply -input=false $PLANFILE
"""
    return f"""# Written by `kubeprod ci atlantis --cloud {cloud}`. Atlantis applies the plan it
# made for the pull request (before merge) once it is approved and mergeable; kubeprod
# enforces the maintenance window and the approval binding, and records the override.
version: 3
automerge: true
projects:
  - name: {environment}-{cloud}
    dir: .
    workflow: kubeprod-{cloud}
    autoplan:
      enabled: true
      when_modified: ["{spec}"]
    apply_requirements: [approved, mergeable]
workflows:
  kubeprod-{cloud}:
{steps}"""


def default_path(kind: str, cloud: str) -> str:
    if kind == "atlantis":
        return ATLANTIS_PATH
    return GITHUB_PATH if cloud == "aws" else GITHUB_PATH.replace(".yml", f"-{cloud}.yml")


def write(
    kind: str, spec: str, environment: str, out: str | None, force: bool, cloud: str = "aws"
) -> Path:
    """Write the CI file; refuse to overwrite one without --force."""
    path = Path(out or default_path(kind, cloud))
    if path.exists() and not force:
        raise InputError(f"{path} exists. Fix: pass --force to overwrite it, or --out elsewhere")
    text = (
        github_workflow(spec, environment, cloud=cloud)
        if kind == "github"
        else atlantis_yaml(spec, environment, cloud)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
