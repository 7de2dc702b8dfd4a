"""Rules for the GitHub workflows, Dependabot and pre-commit that the linters
do not check: each action's pin names its version, Dependabot covers every
kind of dependency, and pre-commit runs the linters at the versions that the
tests run."""

import re
import subprocess
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

PROJECT = Path(__file__).resolve().parents[1]
GITHUB = PROJECT / ".github"
WORKFLOW_FILES = sorted(GITHUB.glob("workflows/*.y*ml")) + sorted(
    GITHUB.glob("actions/**/action.y*ml")
)
# `uses: owner/repository[/path]@ref  # comment`, in a step or a job.
USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s*(?P<target>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$"
)
FULL_SHA = re.compile(r"[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"v\d+(\.\d+)*")


def action_references() -> list[tuple[str, str, str | None]]:
    """Return each action and reusable workflow from another repository that
    the workflows use, as (file:line, target, comment)."""
    references = []
    for path in WORKFLOW_FILES:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = USES.match(line)
            if match is None:
                continue
            target = match.group("target")
            # Local actions and workflows run this repository's own commit.
            if target.startswith(("./", "$/")):
                continue
            location = f"{path.relative_to(PROJECT)}:{number}"
            references.append((location, target, match.group("comment")))
    return references


def test_workflows_exist() -> None:
    names = {path.name for path in WORKFLOW_FILES}
    assert {"test.yml", "suite.yml", "pages.yml", "weekly.yml"} <= names


def test_actions_found() -> None:
    # The control for the test below: the pattern finds the workflows' actions.
    targets = {target.split("@")[0] for _, target, _ in action_references()}
    assert "actions/checkout" in targets


@pytest.mark.parametrize(
    ("location", "target", "comment"),
    action_references(),
    ids=[location for location, _, _ in action_references()],
)
def test_action_pinned_with_version(
    location: str, target: str, comment: str | None
) -> None:
    name, _, ref = target.partition("@")
    assert FULL_SHA.fullmatch(ref), (
        f"{location}: {name} is used at {ref!r}; pin it to the full commit SHA "
        "of a release and name the release in a comment: @<sha> # vX.Y.Z"
    )
    assert comment is not None and VERSION_COMMENT.fullmatch(comment.strip()), (
        f"{location}: {name} is pinned to a commit without its version in a "
        f"comment; found {comment!r}, expected for example '# v1.2.3'"
    )


def test_dependabot_covers_dependencies() -> None:
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text())
    covered = {
        (update["package-ecosystem"], update["directory"])
        for update in config["updates"]
    }
    assert ("pip", "/") in covered
    assert ("github-actions", "/") in covered
    for dockerfile in sorted(PROJECT.glob("examples/*/Dockerfile")):
        directory = f"/{dockerfile.parent.relative_to(PROJECT)}"
        assert ("docker", directory) in covered, (
            f"Dependabot does not update {directory}"
        )


def pinned_requirements(requirements: list[str]) -> dict[str, str]:
    """Return the exact pins (``name==version``) in a list of requirements,
    by normalized package name."""
    pins = {}
    for text in requirements:
        requirement = Requirement(text)
        specifiers = list(requirement.specifier)
        if len(specifiers) == 1 and specifiers[0].operator == "==":
            pins[requirement.name.lower().replace("_", "-")] = specifiers[0].version
    return pins


def test_pre_commit_pins_match_test_extras() -> None:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    expected = pinned_requirements(extras["test"])
    config = yaml.safe_load((PROJECT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repository in config["repos"] for hook in repository["hooks"]]

    for hook in hooks:
        pins = pinned_requirements(hook.get("additional_dependencies", []))
        assert pins, f"pre-commit hook {hook['id']} installs no pinned tool"
        for name, version in pins.items():
            assert expected.get(name) == version, (
                f"pre-commit hook {hook['id']} installs {name}=={version}, but "
                f"pyproject.toml pins {name}=={expected.get(name)}; "
                "give both the same version"
            )


def test_pre_commit_config_valid() -> None:
    pre_commit = Path(sysconfig.get_path("scripts")) / "pre-commit"
    if not pre_commit.exists():
        pytest.fail(f"{pre_commit} is missing; install the test extra")
    result = subprocess.run(
        [str(pre_commit), "validate-config", ".pre-commit-config.yaml"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
