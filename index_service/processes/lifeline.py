"""A supervised process dies with its supervisor, even one killed outright.

SIGTERM, SIGHUP and Ctrl-C reach a supervisor's handlers, and it stops its children
itself. SIGKILL (the OOM killer, `kill -9`, a crash) leaves no handler to run: the
children would be orphaned, still serving, and still holding the port. So a supervisor
names itself to its children in `INDEX_SERVICE_SUPERVISOR_PID`, and a child that finds it
asks Linux for SIGTERM when its parent dies (`prctl(PR_SET_PDEATHSIG)`), then shuts down
as it would for `kill`. The signal is armed in the child, after exec; a supervisor that
died before it was armed is caught by comparing the parent's pid with the named one.

Linux sends the signal when the *thread* that started the child ends, so supervisors
start children from their main thread only. Elsewhere than Linux nothing is armed."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

SUPERVISOR_ENV = "INDEX_SERVICE_SUPERVISOR_PID"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class SupervisorGone(SystemExit):
    """The supervisor died before this child could arm its death signal."""


def lead_children() -> dict[str, str]:
    """Name this process as the supervisor of the children it starts from now on (they
    inherit the environment); returns the environment, for `subprocess` calls."""
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    return dict(os.environ)


def follow_supervisor() -> None:
    """In a child: get SIGTERM when the supervisor dies, or leave now if it already has.
    A process started by anything else (a shell, systemd) is left alone."""
    named = os.environ.get(SUPERVISOR_ENV)
    if not named or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    if os.getppid() != int(named):
        raise SupervisorGone(f"supervisor {named} has gone; not starting")
