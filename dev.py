#!/usr/bin/env python3
"""OpenPRM on a laptop: ``python3 dev.py run`` and ``python3 dev.py test [pytest args]``.

Standard library only, so that it runs with the machine's ``python3`` (3.11+) before anything is
installed. Both commands create ``.venv`` if it is missing and install the project into it
(``pip install -e ".[dev]"``), skipping the install while ``pyproject.toml`` is unchanged.

``run`` migrates the database, loads the demo data, then starts the web server and one Celery
worker with embedded beat, and stops all of them together (Ctrl-C, or when one of them dies).
Whatever ``DATABASE_URL``/``REDIS_URL``/... are set in the environment is passed on unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".openprm-install-stamp"
STOP_TIMEOUT = 10.0  # seconds a child gets to exit after SIGTERM before SIGKILL

if sys.version_info < (3, 11):  # noqa: UP036 - run by whatever python3 the machine has
    sys.exit("dev.py: OpenPRM needs Python 3.11 or newer (python3 --version).")


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


# --- the virtualenv -------------------------------------------------------------------------


def ensure_venv() -> None:
    """Create ``.venv`` if needed and install the project unless pyproject.toml is unchanged."""
    if not PYTHON.exists():
        say(f"creating virtualenv in {VENV.relative_to(ROOT)}/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    say('installing dependencies (pip install -e ".[dev]"); this takes a while the first time')
    result = subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "-e", ".[dev]"], cwd=ROOT, check=False
    )
    if result.returncode != 0:
        sys.exit(f"dev.py: pip install failed (exit code {result.returncode})")
    STAMP.write_text(wanted + "\n")
    say("dependencies installed")


# --- run ------------------------------------------------------------------------------------


def var_dir() -> Path:
    """The same folder prm/settings.py uses for the SQLite file and the broker's messages."""
    return Path(os.environ.get("PRM_VAR_DIR") or ROOT / "var")


def manage(*args: str) -> None:
    say("manage.py " + " ".join(args))
    result = subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit(f"dev.py: manage.py {args[0]} failed (exit code {result.returncode})")


def start(name: str, argv: list[str]) -> subprocess.Popen:
    """Start a child in its own process group: Ctrl-C reaches only dev.py, which stops them all."""
    say(f"starting {name}: {' '.join(argv)}")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(argv, cwd=ROOT, env=env, process_group=0)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def stop_all(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM every child's process group, wait, then SIGKILL whatever is left."""
    for proc in children.values():
        _signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for proc in children.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    # The leader may be gone while its own children (runserver's reloader, beat) still run.
    while time.monotonic() < deadline and any(_group_alive(p.pid) for p in children.values()):
        time.sleep(0.1)
    for name, proc in children.items():
        if _group_alive(proc.pid):
            say(f"{name} did not stop in {STOP_TIMEOUT:.0f}s: killing it")
            _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()


_stop_signal = 0


def _request_stop(signum, frame):
    # Only a flag: raising here could interrupt Popen and leave an unrecorded child behind.
    global _stop_signal
    _stop_signal = signum


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dev.py run", description="Start OpenPRM locally.")
    parser.add_argument("--port", type=int, default=8000, help="web server port (default 8000)")
    options = parser.parse_args(argv)

    ensure_venv()
    # kombu's filesystem broker (the default without REDIS_URL) needs its folders to exist.
    for folder in (var_dir(), var_dir() / "celery-broker", var_dir() / "celery-processed"):
        folder.mkdir(parents=True, exist_ok=True)
    manage("migrate", "--noinput")
    manage("seed_demo")

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    children: dict[str, subprocess.Popen] = {}
    exit_code = 0
    try:
        children["web"] = start(
            "web", [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{options.port}"]
        )
        children["worker"] = start(
            "worker",
            [str(PYTHON), "-m", "celery", "-A", "prm", "worker", "-B", "--pool=solo"]
            + ["--loglevel=INFO"],
        )
        say(f"OpenPRM is starting on http://127.0.0.1:{options.port}/ (Ctrl-C stops it)")
        while not _stop_signal:
            died = [(name, p.returncode) for name, p in children.items() if p.poll() is not None]
            if died:
                name, code = died[0]
                say(f"{name} exited with code {code}: stopping the others")
                exit_code = code if code and code > 0 else 1
                break
            time.sleep(0.3)
        else:
            say(f"got {signal.Signals(_stop_signal).name}: stopping")
    finally:
        stop_all(children)
        say("all processes stopped")
    return exit_code


# --- test -----------------------------------------------------------------------------------


def test(argv: list[str]) -> int:
    ensure_venv()
    os.chdir(ROOT)
    # exec: pytest gets the terminal, Ctrl-C and its exit code go straight through.
    os.execv(PYTHON, [str(PYTHON), "-m", "pytest", *argv])  # noqa: S606
    return 1  # not reached


USAGE = """usage: python3 dev.py run [--port PORT]     migrate, load demo data, start web + worker
       python3 dev.py test [pytest args]     run the test suite"""


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "run":
            return run(rest)
        if command == "test":
            return test(rest)
    except KeyboardInterrupt:
        return 130
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
