"""feedloop's trainer protocol, trainer side (see trainers/PROTOCOL.md).

Events go to stdout as one JSON object per line; everything else a trainer prints goes to stderr,
so library chatter never corrupts the event stream. Checkpoints are published atomically.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable

CHECKPOINT_MARKER = "feedloop-checkpoint.json"

_stdout = sys.stdout


def emit(event: str, **fields: Any) -> None:
    _stdout.write(json.dumps({"event": event, **fields}) + "\n")
    _stdout.flush()


class TrainerError(Exception):
    """A failure the trainer reports with an error class. Non-retryable unless said otherwise."""

    def __init__(self, error_class: str, message: str, retryable: bool = False):
        super().__init__(message)
        self.error_class = error_class
        self.retryable = retryable


def load_spec(argv: list[str]) -> dict[str, Any]:
    path = os.environ.get("FEEDLOOP_JOB_SPEC") or (argv[-1] if len(argv) > 1 else None)
    if not path:
        raise TrainerError("BadConfig", "no job spec: pass its path as the last argument or in FEEDLOOP_JOB_SPEC")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    if spec.get("protocol") != 1:
        raise TrainerError("BadConfig", f"unsupported protocol version {spec.get('protocol')!r}")
    return spec


def guard_process(on_stop: Callable[[], None] | None = None) -> None:
    """Exit on SIGTERM (the worker stopping us) and when stdin closes (the worker died)."""

    def stop(*_: Any) -> None:
        if on_stop:
            on_stop()
        print("trainer: stopping on SIGTERM", file=sys.stderr, flush=True)
        os._exit(143)

    signal.signal(signal.SIGTERM, stop)

    def watch_stdin() -> None:
        # os.read, not sys.stdin: a thread blocked inside a buffered reader aborts interpreter shutdown.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        print("trainer: stdin closed (worker gone), exiting", file=sys.stderr, flush=True)
        os._exit(0)

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, daemon=True).start()


def publish_dir(output_dir: Path, name: str, write: Callable[[Path], None], marker: dict[str, Any] | None = None) -> Path:
    """Writes a directory under a temporary name, adds the completion marker last, renames it into place."""
    tmp = output_dir / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write(tmp)
    if marker is not None:
        with open(tmp / CHECKPOINT_MARKER, "w", encoding="utf-8") as f:
            json.dump(marker, f)
            f.flush()
            os.fsync(f.fileno())
    final = output_dir / name
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def run_main(main: Callable[[dict[str, Any]], None], argv: list[str]) -> int:
    """Runs `main(spec)`, turning failures into protocol error events and exit codes."""
    # Library output (transformers, torch) goes to stderr; stdout carries only events.
    sys.stdout = sys.stderr
    try:
        spec = load_spec(argv)
        guard_process()
        main(spec)
        return 0
    except TrainerError as e:
        emit("error", errorClass=e.error_class, message=str(e), retryable=e.retryable)
        print(f"{e.error_class}: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        emit("error", errorClass="BadConfig", message=str(e), retryable=False)
        print(f"BadConfig: {e}", file=sys.stderr)
        return 2
