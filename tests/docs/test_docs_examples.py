"""Every shell example of README.md and docs/*.md runs as written against ``make run``.

Each doc's runnable ```bash blocks run in order, in one bash session (``set -euo pipefail``),
against a fresh local stack started with the default local secrets, so the docs' tokens
work; the docs' ports are replaced by the stack's. A ``# -> text`` comment after a command
is checked against that command's output. Blocks marked ``<!-- not run: … -->`` need an
AWS account: they may hold only ``sam`` and ``aws`` commands.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from contextlib import nullcontext
from pathlib import Path

import pytest

from local.stack import DEFAULT_SECRETS
from tests.conftest import ROOT
from tests.docs.shell import ShellBlock, command_words, session_script, shell_blocks, statements, unmet
from tests.e2e.conftest import local_stack_process

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SESSION_SECONDS = 240
AWS_ONLY_COMMANDS = {"sam", "aws"}
MAKE_RUN_ADDRESS = re.compile(r"\b(?:localhost|127\.0\.0\.1):300[01]\b")


def _blocks() -> list[ShellBlock]:
    return [block for doc in DOCS for block in shell_blocks(doc, ROOT)]


def _runnable_docs() -> list[Path]:
    return [doc for doc in DOCS if any(block.not_run is None for block in shell_blocks(doc, ROOT))]


def test_every_shell_example_is_a_bash_block() -> None:
    """A ```sh or ```console block would escape the run below: shell examples are ```bash."""
    others = [f"{block.where} (```{block.language})" for block in _blocks() if block.language != "bash"]
    assert others == []


def test_blocks_that_are_not_run_need_an_aws_account_and_hold_only_sam_or_aws() -> None:
    not_run = [block for block in _blocks() if block.not_run is not None]
    print("\nshell blocks not run:")
    for block in not_run:
        print(f"  {block.where}: {block.not_run}")
    for block in not_run:
        assert "aws account" in (block.not_run or "").lower(), f"{block.where}: say why it cannot run here"
        words = set(command_words(block))
        assert words, f"{block.where}: an empty block"
        assert words <= AWS_ONLY_COMMANDS, f"{block.where}: only sam/aws commands may skip the run, found {sorted(words)}"


def test_the_splitter_finds_commands_and_their_promised_answers() -> None:
    code = "\n".join(
        [
            "A=1  # a comment",
            "curl -X PUT x \\",
            '  -d \'{"a":',
            "       1}'",
            '# -> {"a": 1}',
            "# -> second line",
            "",
            "# -> not attached (a blank line before it)",
            "cat <<EOF | tr a b  # -> bbb",
            "aaa",
            "EOF",
            "f() {",
            "  echo $(date)",
            "}",
        ]
    )
    found = [(s.first, s.last, s.expectations) for s in statements(code)]
    assert found == [
        (0, 0, []),
        (1, 3, ['{"a": 1}', "second line"]),
        (8, 10, ["bbb"]),
        (11, 13, []),
    ]
    assert not unmet('{"a": … "c": 3}', '{"a": 1, "b": 2, "c": 3}')
    assert unmet('{"c": 3 … "a": 1}', '{"a": 1, "b": 2, "c": 3}')


@pytest.mark.e2e
@pytest.mark.parametrize("doc", _runnable_docs(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_shell_examples_run_against_make_run(doc: Path, tmp_path: Path) -> None:
    blocks = [block for block in shell_blocks(doc, ROOT) if block.not_run is None]
    started = time.monotonic()
    # A doc whose examples start their own stacks (crms.md) does not need `make run`'s.
    needs_make_run = any(MAKE_RUN_ADDRESS.search(block.code) for block in blocks)
    with local_stack_process(secrets=dict(DEFAULT_SECRETS)) if needs_make_run else nullcontext() as stack:
        ports: dict[int, int] = {}
        if stack is not None:
            ports = {3000: int(stack.base_url.rsplit(":", 1)[1]), 3001: int(stack.moto_url.rsplit(":", 1)[1])}
        outputs = tmp_path / "outputs"
        outputs.mkdir()
        script, checks = session_script(blocks, ports, outputs)
        (tmp_path / "session.sh").write_text(script, encoding="utf-8")
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "RINGBRIDGE_"))}
        process = subprocess.Popen(
            ["bash", str(tmp_path / "session.sh")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so that whatever an example starts in the background is stopped below
        )
        try:
            transcript, _ = process.communicate(timeout=SESSION_SECONDS)
        except subprocess.TimeoutExpired:
            transcript = "(timed out)"
        finally:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            process.wait()
    elapsed = time.monotonic() - started
    print(f"\n{doc.name}: {len(blocks)} blocks, {len(checks)} promised answers, {elapsed:.1f} s")

    problems = []
    if process.returncode != 0:
        problems.append(f"the session ended with status {process.returncode}")
    for check in checks:
        output_file = outputs / f"{check.number}.out"
        if not output_file.exists():
            continue  # not reached: the failure above says where it stopped
        output = output_file.read_text(encoding="utf-8")
        for expected in check.expected:
            if unmet(expected, output):
                problems.append(f"{check.where}: expected {expected!r} in the output of\n{check.command}\n--- got:\n{output}")
    assert not problems, "\n\n".join(problems) + "\n\n--- session transcript (tail):\n" + transcript[-6000:]
