"""Engine alone: pipes N commands into `parley chat` (the terminal adapter: no network), which runs
them concurrently through parse, authorize, audit (received/started/finished, group-committed) and
the action, and prints the replies. Reports commands/s and CPU per command, net of a 1-command run
(process start, configuration, database open).

    python engine.py PARLEY CONFIG N TEXT_TEMPLATE LABEL     (TEXT_TEMPLATE has {i})
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def run(parley, config, texts):
    with tempfile.TemporaryFile("w+") as stdin:
        stdin.write("".join(t + "\n" for t in texts))
        stdin.seek(0)
        started = time.perf_counter()
        process = subprocess.Popen([parley, "chat", "--config", config], stdin=stdin, stdout=subprocess.PIPE)
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, output.decode(errors="replace")


def main():
    parley, config, n, template, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    data = os.path.join(os.path.dirname(config), "data")
    shutil.rmtree(data, ignore_errors=True)
    base_s, base_cpu, _, _ = run(parley, config, [template.format(i="warm")])
    seconds, cpu, maxrss, output = run(parley, config, [template.format(i=i) for i in range(n)])
    answered = sum(1 for i in range(n) if f"c{i} " in output or f"c{i}!" in output)
    net_s, net_cpu = seconds - base_s, cpu - base_cpu
    print(json.dumps({
        "label": label, "workload": "engine", "n": n, "answered": answered, "seconds": round(seconds, 3),
        "per_second": round(n / net_s, 1), "cpu_ms_per_op": round(net_cpu * 1000 / n, 3),
        "max_rss_kib": maxrss,
    }))


if __name__ == "__main__":
    main()
