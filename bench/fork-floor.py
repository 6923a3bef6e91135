"""The sandbox's floor: a warm Python parent that forks a child per program, with no isolation
and no judge (bench/fork-floor-runner.ts). Reads one JSON request a line ({program, tests}),
answers one JSON line ({status, cpuMs}). The child runs program + tests in one namespace, as a
plain harness does, with its output to /dev/null."""
import json
import os
import sys

def main():
    devnull = os.open(os.devnull, os.O_RDWR)
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        source = request["program"] + "\n" + request["tests"] + "\n"
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                os.dup2(devnull, 0)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                exec(compile(source, "<program>", "exec"), {"__name__": "__main__"})
            except BaseException:  # noqa: B902
                status = 1
            os._exit(status)
        _, status, usage = os.wait4(pid, 0)
        cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000.0
        out.write(json.dumps({"status": os.waitstatus_to_exitcode(status), "cpuMs": cpu_ms}) + "\n")
        out.flush()

if __name__ == "__main__":
    main()
