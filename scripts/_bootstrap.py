"""Create the project's virtual environment and install crm-graph into it (used by demo.py and test.py).

Only the Python standard library is used here, so that the quick start works on a machine that has
nothing but Python 3.11+. The install is repeated only when a pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def venv_python() -> Path:
    """The virtual environment's interpreter (Windows or POSIX layout)."""
    windows = VENV / "Scripts" / "python.exe"
    return windows if windows.exists() else VENV / "bin" / "python"


def _install_targets(extras: str) -> list[str]:
    """`pip install` arguments: the core (editable, with `extras`) and every connector in plugins/."""
    targets = ["-e", f".[{extras}]" if extras else "."]
    plugins = ROOT / "plugins"
    if plugins.is_dir():
        for package in sorted(plugins.iterdir()):
            if (package / "pyproject.toml").is_file():
                targets += ["-e", str(package.relative_to(ROOT))]
    return targets


def _fingerprint(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for project in sorted(ROOT.glob("pyproject.toml")) + sorted(ROOT.glob("plugins/*/pyproject.toml")):
        digest.update(project.read_bytes())
    return digest.hexdigest()


def ensure_environment(extras: str = "") -> Path:
    """Make sure `.venv` exists with crm-graph (and `extras`) installed; return its python."""
    if sys.version_info < (3, 11):
        _fail(f"crm-graph needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not venv_python().exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except Exception as exc:  # noqa: BLE001
            _fail(f"could not create .venv ({exc}); on Debian/Ubuntu install python3-venv first.")
    stamp = VENV / ".crm-graph-installed"
    wanted = _fingerprint(extras)
    if stamp.exists() and stamp.read_text() == wanted:
        return venv_python()
    print("Installing crm-graph and its dependencies into .venv (first run only) ...", flush=True)
    pip = [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    result = subprocess.run([*pip, *_install_targets(extras)], cwd=ROOT)
    if result.returncode != 0:
        _fail("pip install failed (see above); check the network access to PyPI and try again.")
    stamp.write_text(wanted)
    return venv_python()


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """Under CI=true, install Debian's chromium with apt when it is missing (the browser tests need it;
    elsewhere they are skipped without it). A failed install is reported; the tests then fail."""
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes") or CHROMIUM.exists():
        return
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    print("Installing chromium with apt-get for the browser tests ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([*apt, "update", "-q"], [*apt, "install", "-y", "-q", "chromium"]):
        if subprocess.run(command, env=env).returncode != 0:
            print(f"warning: `{' '.join(command)}` failed; the browser tests will fail.", file=sys.stderr)
            return


def run(python: Path, args: list[str]) -> None:
    """Run `python args...` in the repository root and exit with its code."""
    os.chdir(ROOT)
    try:
        sys.exit(subprocess.call([str(python), *args]))
    except KeyboardInterrupt:
        sys.exit(130)
