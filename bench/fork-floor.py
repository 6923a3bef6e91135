"""The sandbox's floor: a warm Python parent that forks a child per program, with no isolation
and no judge (bench/fork-floor-runner.ts). Reads one JSON request a line ({program, tests}),
answers one JSON line ({status, cpuMs}: the CPU time of compiling and running program + tests
in the child, the program's own cost in any harness). The child runs program + tests in one namespace, as a
plain harness does, with its output to /dev/null."""
import json
import os
import struct
import sys
import time

def main():
    devnull = os.open(os.devnull, os.O_RDWR)
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        source = request["program"] + "\n" + request["tests"] + "\n"
        cpu_r, cpu_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            status = 0
            os.close(cpu_r)
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            started = time.process_time()
            try:
                exec(compile(source, "<program>", "exec"), {"__name__": "__main__"})
            except BaseException:  # noqa: B902
                status = 1
            os.write(cpu_w, struct.pack("d", (time.process_time() - started) * 1000.0))
            os._exit(status)
        os.close(cpu_w)
        raw = os.read(cpu_r, 8)
        os.close(cpu_r)
        _, status, usage = os.wait4(pid, 0)
        # The program's own CPU: compiling and running program + tests, in the child, nothing of the fork.
        program_ms = struct.unpack("d", raw)[0] if len(raw) == 8 else (usage.ru_utime + usage.ru_stime) * 1000.0
        out.write(json.dumps({"status": os.waitstatus_to_exitcode(status), "cpuMs": program_ms}) + "\n")
        out.flush()

if __name__ == "__main__":
    main()
