"""README.md and .ci/run agree: CI installs and tests exactly as the README says."""

from __future__ import annotations

import shlex

import readme

CI = (readme.REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
CI_LINES = [line.strip() for line in CI.splitlines()]


def test_the_readme_has_one_install_and_one_test_command():
    assert readme.install_command() == 'pip install -e ".[dev]" "torch==2.13.0"'
    assert readme.full_test_command() == "python -m pytest --doctest-modules --nbval-lax --nbval-current-env kplearn tests notebooks"


def test_ci_runs_the_readme_install_command_verbatim():
    assert readme.install_command() in CI_LINES
    # ... and no other pip install of its own.
    installs = [line for line in CI_LINES if line.startswith(("pip ", "python -m pip"))]
    assert installs == [readme.install_command()]


def test_ci_runs_the_readme_test_command_verbatim_after_install_and_ruff():
    install = CI_LINES.index(readme.install_command())
    ruff = next(i for i, line in enumerate(CI_LINES) if line.startswith("ruff check"))
    tests = CI_LINES.index(readme.full_test_command())
    assert install < ruff < tests


def test_the_install_command_pins_the_cpu_wheel_of_the_local_cache():
    words = shlex.split(readme.install_command())
    assert words[:4] == ["pip", "install", "-e", ".[dev]"]
    assert "torch==2.13.0" in words
    assert not any("index-url" in w for w in words)  # an unreachable index costs minutes per package


def test_other_machines_get_their_own_lines():
    blocks = readme.bash_blocks(readme.section("Install"))
    commands = [line for block in blocks[1:] for line in block]
    cpu = "pip install torch --index-url https://download.pytorch.org/whl/cpu && pip install -e \".[dev]\""
    assert cpu in commands and 'pip install -e ".[dev]"' in commands
    assert commands[-1] == "kplearn info"  # the install section ends with the check


def test_the_quick_subset_is_documented():
    blocks = readme.bash_blocks(readme.section("Run the tests"))
    assert ['python -m pytest tests -m "not slow"'] in blocks
    body = readme.section("Run the tests")
    assert "under 3 minutes" in body and "minutes on a quiet 2-core machine" in body


def test_first_steps_are_the_lesson_run_and_jupyter():
    blocks = readme.bash_blocks(readme.section("First steps"))
    assert blocks[0] == ["kplearn lessons run 01"]
    assert blocks[1] == ["jupyter lab notebooks/"]


def test_bash_blocks_reads_indented_blocks_and_strips_comments():
    text = "## A\n\n- x\n\n  ```bash\n  run this   # why\n  # a comment\n  ```\n"
    assert readme.bash_blocks(readme.sections(text)["A"]) == [["run this"]]
