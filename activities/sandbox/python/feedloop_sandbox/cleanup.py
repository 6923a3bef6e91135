"""Removing a run's work dir, whatever the program left in it.

shutil.rmtree recurses in this interpreter: a tree a few thousand levels deep makes it raise
RecursionError (and paths beyond PATH_MAX make plain path calls fail). Then GNU rm, which
walks with fts and no recursion limit, removes the rest. Whatever still fails is the host's
problem: it is reported for the host's log, and never changes the run's outcome.
"""
import os
import shutil

from . import confine, spawn

_RM = shutil.which("rm", path="/usr/bin:/bin") or "/bin/rm"


def remove_tree(path):
    """Removes `path`; returns None, or a one-line description of what could not be removed."""
    try:
        shutil.rmtree(path)
        return None
    except FileNotFoundError:
        return None
    except (OSError, RecursionError, MemoryError):
        pass
    try:
        code, output = spawn.run([_RM, "-rf", "--one-file-system", "--", path], env=dict(confine.BASE_ENV), cwd="/", timeout_s=120)
    except (OSError, TimeoutError) as exc:
        return "could not remove %s: %s" % (path, exc)
    if os.path.lexists(path):
        return "could not remove %s (rm exited %d: %s)" % (path, code, output.decode("utf-8", "replace").strip()[-300:])
    return None
