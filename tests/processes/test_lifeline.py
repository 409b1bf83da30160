"""A supervised process arms its death signal, and refuses to start when the supervisor
that named it is already gone (the SIGKILL cases themselves: test_server, test_run)."""

from __future__ import annotations

import os
import subprocess
import sys

from index_service.processes.lifeline import SUPERVISOR_ENV

# Arms the signal, then reads it back from the kernel (PR_GET_PDEATHSIG).
CHILD = """
import ctypes
from index_service.processes.lifeline import follow_supervisor
follow_supervisor()
armed = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(armed), 0, 0, 0)
print(armed.value)
"""


def _child(supervisor: str | None, *, via_shell: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != SUPERVISOR_ENV}
    command = [sys.executable, "-c", CHILD]
    if via_shell:  # the shell is the parent, and names itself ($$); `; :` keeps it there
        command = ["sh", "-c", f'{SUPERVISOR_ENV}=$$ "$0" -c "$1"; :', *command[:1], CHILD]
    elif supervisor is not None:
        env[SUPERVISOR_ENV] = supervisor
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_a_child_of_its_named_supervisor_gets_sigterm_when_it_dies() -> None:
    result = _child(None, via_shell=True)
    assert (result.returncode, result.stdout.strip()) == (0, "15"), result.stderr


def test_a_process_nobody_supervises_is_left_alone() -> None:
    result = _child(None)
    assert (result.returncode, result.stdout.strip()) == (0, "0"), result.stderr


def test_a_child_whose_supervisor_is_already_gone_does_not_start() -> None:
    """Its parent is not the supervisor named: that one died before the signal was armed
    (and the child was handed to another parent)."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    result = _child(str(dead.pid))
    assert result.returncode == 1
    assert f"supervisor {dead.pid} has gone" in result.stderr
    assert result.stdout == ""
