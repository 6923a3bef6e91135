"""Entry point of the sandbox fork-server: `python3 -I -S -B forkserver.py CONFIG_JSON`."""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
from feedloop_sandbox import server  # noqa: E402

# Programs must not find this directory on sys.path (it is masked anyway).
sys.path.remove(_here)

if __name__ == "__main__":
    server.main()
