"""The image's dependency layer is built from what the Dockerfile copies before the code: its
`uv sync` steps are executed here (as a dry run, no Docker engine) on exactly those files."""

import shlex
import shutil
import subprocess
from pathlib import Path

from assistant_stack.profiles import REPO

DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
UV = REPO / ".local" / "tools" / "bin" / "uv"


def build_stage() -> list[str]:
    """The first stage's instructions, continuation lines joined."""
    lines = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    instructions = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    starts = [i for i, line in enumerate(instructions) if line.startswith("FROM ")]
    return instructions[starts[0] + 1 : starts[1]]


def without_mounts(run: str) -> list[str]:
    return [word for word in shlex.split(run) if not word.startswith("--mount=")]


def test_dependencies_install_from_the_lock_file_alone(tmp_path: Path) -> None:
    instructions = build_stage()
    code = instructions.index("COPY . .")
    copied = [
        i.split()[1:-1] for i in instructions[:code] if i.startswith("COPY ") and "--from" not in i
    ]
    for files in copied:
        for name in files:
            shutil.copy(REPO / name, tmp_path / name)
    runs = [
        without_mounts(i.removeprefix("RUN ")) for i in instructions[:code] if i.startswith("RUN ")
    ]
    assert runs, "the dependencies have a layer of their own, before the code is copied"
    for command in runs:
        assert command[:2] == ["uv", "sync"]
        done = subprocess.run(
            [str(UV), *command[1:], "--dry-run"],
            cwd=tmp_path,
            env={"UV_PROJECT_ENVIRONMENT": str(tmp_path / ".venv"), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "sentence-transformers" in done.stderr + done.stdout  # the heavy ones, cached
        assert "gateway-service" not in done.stderr + done.stdout  # the code comes later
