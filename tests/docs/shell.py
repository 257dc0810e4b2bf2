"""The shell examples of the Markdown docs: find them, split them into commands, run them.

A doc's example is a fenced ```bash block. A block that cannot run against ``make run``
carries ``<!-- not run: <reason> -->`` on the line above its fence. A comment line
``# -> text`` right after a command (or ``command  # -> text`` on its last line) is the
answer the doc promises: the command's output must contain ``text``, where ``…`` stands
for anything in between.
"""

from __future__ import annotations

import re
import shlex
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SHELL_LANGUAGES = {"bash", "sh", "shell", "console", "zsh", "shell-session", "terminal"}
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
_NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>.+?)\s*-->$")
_EXPECTATION = re.compile(r"^#\s*->\s?(?P<text>.*)$")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)\1")
_OPENERS = {"if", "for", "while", "until", "case"}
_CLOSERS = {"fi", "done", "esac"}
# Ports the docs use: the local stack (3000) and its moto server (3001) become the test
# stack's; any other (a second stack, a fake CRM) becomes a free port.
_HOST_PORT = re.compile(r"\b(?P<host>localhost|127\.0\.0\.1):(?P<port>\d{4,5})\b")
_PORT_FLAG = re.compile(r"(?P<flag>--(?:moto-)?port)(?P<sep>[ =])(?P<port>\d{4,5})\b")


@dataclass(frozen=True)
class ShellBlock:
    doc: str  # path relative to the repository
    line: int  # 1-based line of the block's first code line
    language: str
    code: str
    not_run: str | None  # the marker's reason, or None when the block runs

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


@dataclass
class Statement:
    first: int  # 0-based code line index
    last: int
    expectations: list[str] = field(default_factory=list)


def shell_blocks(path: Path, root: Path) -> list[ShellBlock]:
    """Every fenced block of a shell-like language, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[ShellBlock] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        indent, language = fence.group("indent"), fence.group("lang").lower()
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if language in SHELL_LANGUAGES:
            code = "\n".join(line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[index + 1 : end])
            above = index - 1
            while above >= 0 and not lines[above].strip():
                above -= 1
            marker = _NOT_RUN.match(lines[above].strip()) if above >= 0 else None
            blocks.append(
                ShellBlock(
                    doc=path.relative_to(root).as_posix(),
                    line=index + 2,
                    language=language,
                    code=code,
                    not_run=marker.group("reason") if marker else None,
                )
            )
        index = end + 1
    return blocks


def _scan(line: str, state: _Lexer) -> tuple[str, str | None]:
    """Advance the lexer over one line; return its unquoted code and its top-level comment, if any."""
    bare: list[str] = []  # the line with quoted text blanked out, for counting words
    comment = None
    position = 0
    while position < len(line):
        char = line[position]
        if state.quote == "'":
            if char == "'":
                state.quote = None
            bare.append("x")
        elif state.quote == '"':
            if char == "\\":
                position += 1
            elif char == '"':
                state.quote = None
            bare.append("x")
        elif char == "#" and (position == 0 or line[position - 1] in " \t;"):
            comment = line[position:]
            break
        elif char in "'\"":
            state.quote = char
            bare.append("x")
        elif char == "\\":
            bare.append(line[position : position + 2])
            position += 1
        else:
            if char == "(":
                state.depth += 1
            elif char == ")":
                state.depth -= 1
            elif line.startswith("<<", position) and not line.startswith("<<<", position):
                heredoc = _HEREDOC.match(line, position)
                if heredoc:
                    state.heredocs.append(heredoc.group("word"))
                    bare.append(line[position : heredoc.end()])
                    position = heredoc.end()
                    continue
            bare.append(char)
        position += 1
    code = "".join(bare)
    for word in re.split(r"[;&|]+|\s+", code.strip()):
        if word in {"{", *_OPENERS}:
            state.depth += 1
        elif word in {"}", *_CLOSERS}:
            state.depth -= 1
    return code, comment


@dataclass
class _Lexer:
    quote: str | None = None
    depth: int = 0  # open parentheses, braces and compound commands
    heredocs: list[str] = field(default_factory=list)


def statements(code: str) -> list[Statement]:
    """Split a block into top-level commands, each with the answers the doc promises for it."""
    lines = code.split("\n")
    found: list[Statement] = []
    state = _Lexer()
    heredoc_words: list[str] = []
    current: Statement | None = None
    attach_after = -2  # an expectation line right after this line belongs to found[-1]
    for number, line in enumerate(lines):
        if current is not None and heredoc_words:
            if line.strip() == heredoc_words[0]:
                heredoc_words.pop(0)
            current.last = number
            if not heredoc_words and state.quote is None and state.depth <= 0:
                found.append(current)
                current, attach_after = None, number
            continue
        if current is None:
            stripped = line.strip()
            expectation = _EXPECTATION.match(stripped)
            if expectation and found and number == attach_after + 1:
                found[-1].expectations.append(expectation.group("text").strip())
                attach_after = number
                continue
            if not stripped or stripped.startswith("#"):
                continue
            current = Statement(first=number, last=number)
        current.last = number
        code_part, comment = _scan(line, state)
        heredoc_words.extend(state.heredocs)
        state.heredocs.clear()
        continued = state.quote is not None or state.depth > 0 or code_part.rstrip().endswith(("\\", "|", "&&", "||"))
        if comment and not continued:
            inline = _EXPECTATION.match(comment.strip())
            if inline:
                current.expectations.append(inline.group("text").strip())
        if not continued and not heredoc_words:
            found.append(current)
            current, attach_after = None, number
    if current is not None:
        found.append(current)
    return found


def assign_ports(code: str, ports: dict[int, int]) -> str:
    """Replace the docs' ports: ``ports`` maps each port seen to the one used (filled on the way)."""

    def port_for(number: str) -> int:
        wanted = int(number)
        if wanted not in ports:
            ports[wanted] = free_port()
        return ports[wanted]

    code = _HOST_PORT.sub(lambda m: f"{m.group('host')}:{port_for(m.group('port'))}", code)
    return _PORT_FLAG.sub(lambda m: f"{m.group('flag')}{m.group('sep')}{port_for(m.group('port'))}", code)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Check:
    number: int
    where: str
    command: str
    expected: tuple[str, ...]


PROLOGUE = """\
set -euo pipefail
shopt -s inherit_errexit
__rb_failed() { echo "doc example failed with exit status $1 at $2" >&2; exit "$1"; }
"""


def session_script(blocks: list[ShellBlock], ports: dict[int, int], outputs: Path) -> tuple[str, list[Check]]:
    """One bash script running every block in order; commands with a promised answer save their output."""
    parts = [PROLOGUE]
    checks: list[Check] = []
    for block in blocks:
        code = assign_ports(block.code, ports)
        lines = code.split("\n")
        parts.append(f"# ---- {block.where}")
        cursor = 0
        for statement in statements(code):
            if not statement.expectations:
                continue
            parts.extend(lines[cursor : statement.first])
            command = "\n".join(lines[statement.first : statement.last + 1])
            where = f"{block.doc}:{block.line + statement.first}"
            number = len(checks)
            output = outputs / f"{number}.out"
            parts.append(f"__rb_out=$(\n{command}\n) || __rb_failed $? {shlex.quote(where)}")
            parts.append(f"printf '%s\\n' \"$__rb_out\" > {shlex.quote(str(output))}")
            parts.append(f"cat {shlex.quote(str(output))}")
            checks.append(Check(number, where, command, tuple(statement.expectations)))
            cursor = statement.last + 1
        parts.extend(lines[cursor:])
    return "\n".join(parts) + "\n", checks


def unmet(expected: str, output: str) -> bool:
    """Does ``output`` miss ``expected`` (``…`` matching anything, pieces in order)?"""
    position = 0
    for piece in (part.strip() for part in expected.split("…")):
        if not piece:
            continue
        found = output.find(piece, position)
        if found < 0:
            return True
        position = found + len(piece)
    return False


def command_words(block: ShellBlock) -> Iterator[str]:
    """The first word of each top-level command of a block (after any VAR=value prefixes)."""
    lines = block.code.split("\n")
    for statement in statements(block.code):
        text = "\n".join(lines[statement.first : statement.last + 1]).replace("\\\n", " ")
        words = shlex.split(text, comments=True)
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words.pop(0)
        if words:
            yield words[0]
