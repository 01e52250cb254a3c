"""The commands of README.md, read from it, so that tests and CI run what a newcomer reads."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"


def sections(text: str | None = None) -> dict[str, str]:
    """``{heading: body}`` of the README's ``## `` sections."""
    text = README.read_text(encoding="utf-8") if text is None else text
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def section(prefix: str) -> str:
    """The body of the one section whose heading starts with ``prefix``."""
    found = [body for head, body in sections().items() if head.startswith(prefix)]
    if len(found) != 1:
        raise LookupError(f"README.md: {len(found)} sections start with {prefix!r}")
    return found[0]


def bash_blocks(body: str) -> list[list[str]]:
    """The command lines of each ```bash block (indented blocks too), comments stripped."""
    blocks = []
    for match in re.finditer(r"^( *)```bash\n(.*?)^\1```", body, flags=re.M | re.S):
        lines = []
        for line in match[2].splitlines():
            command = re.sub(r"\s+#\s.*$", "", line.strip())
            if command and not command.startswith("#"):
                lines.append(command)
        blocks.append(lines)
    return blocks


def one_command(prefix: str) -> str:
    """The single command of the first ```bash block of a section."""
    blocks = bash_blocks(section(prefix))
    if not blocks or len(blocks[0]) != 1:
        raise LookupError(f"README.md section {prefix!r}: the first bash block is not one command")
    return blocks[0][0]


def install_command() -> str:
    """The Install section's command (for machines with the local wheel cache)."""
    return one_command("Install")


def full_test_command() -> str:
    """The Run-the-tests section's full test command."""
    return one_command("Run the tests")
