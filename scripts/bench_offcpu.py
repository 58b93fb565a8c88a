#!/usr/bin/env python3
"""Cost of the off-CPU probes (README "Off-CPU"): a process making ~10k voluntary context switches per second
(testdata/native/pingpong.c: two threads handing a byte over pipes) is recorded at 99 Hz in interleaved rounds,
without the off-CPU profile, with `--off-cpu 1ms` (the usual case: every wait is booked, the short ones dropped at
the system call's exit) and with `--off-cpu 1us` (every wait walked and sent). Per mode: the summed BPF
run_time_ns of record's own programs per wall second, split into the CPU sampler (perf_event programs, with the
walks they tail-call) and the off-CPU probes (raw tracepoint programs, with theirs), the workload's measured
context switches per second, and its rounds per second as a ratio to the rounds without a profiler.

    sudo scripts/bench offcpu [--rounds N] [--seconds S] [--rate R]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import bench_overhead  # noqa: E402  (the fdinfo reader both benchmarks use)
PERF_EVENT, RAW_TRACEPOINT = 7, 17


def prog_run_time(owner_pid):
    """[run_time_ns, run_cnt] by program type of the BPF programs whose file descriptors owner_pid holds."""
    out = {}
    for ns, cnt, t in bench_overhead.bpf_programs(owner_pid).values():
        a = out.setdefault(t, [0, 0])
        a[0] += ns
        a[1] += cnt
    return out


def switches(pid):
    n = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches"):
                    n += int(line.split()[1])
    return n


def one_round(mode, exe, args, work):
    seconds = args.seconds
    target = subprocess.Popen([exe, str(int(seconds) + 60), str(args.rate)], stdout=subprocess.PIPE, text=True)
    rec = None
    try:
        time.sleep(0.5)
        if mode != "none":
            cmd = [os.path.join(ROOT, "moonwalk"), "record", "--pid", str(target.pid), "--hz", "99",
                   "--duration", f"{int(seconds) + 30}s", "--output", os.path.join(work, f"{mode}.folded")]
            if mode != "cpu":
                cmd += ["--off-cpu", mode.split("-", 1)[1]]
            err = open(os.path.join(work, f"{mode}.err"), "w+")
            rec = subprocess.Popen(cmd, stderr=err, stdout=subprocess.DEVNULL,
                                   env=dict(os.environ, MOONWALK_NO_BUILD="1"))
            deadline = time.time() + 180
            while time.time() < deadline and rec.poll() is None:
                err.seek(0)
                if "recording" in err.read():
                    break
                time.sleep(0.1)
            err.seek(0)
            text = err.read()
            if "recording" not in text:
                raise SystemExit(f"record did not start in mode {mode}:\n{text}")
            time.sleep(2)  # past the first samples' syncs
        s0, k0, t0 = switches(target.pid), prog_run_time(rec.pid) if rec else {}, time.time()
        r0 = rounds_so_far(target)
        time.sleep(seconds)
        s1, k1, t1 = switches(target.pid), prog_run_time(rec.pid) if rec else {}, time.time()
        r1 = rounds_so_far(target)
        wall = t1 - t0
        cost = {t: (k1.get(t, [0, 0])[0] - k0.get(t, [0, 0])[0], k1.get(t, [0, 0])[1] - k0.get(t, [0, 0])[1])
                for t in (PERF_EVENT, RAW_TRACEPOINT)}
        return {"switches": (s1 - s0) / wall, "rounds": (r1 - r0) / wall,
                "sampler_pct": 100 * cost[PERF_EVENT][0] / 1e9 / wall,
                "offcpu_pct": 100 * cost[RAW_TRACEPOINT][0] / 1e9 / wall,
                "offcpu_runs": cost[RAW_TRACEPOINT][1] / wall,
                "offcpu_ns_per_run": cost[RAW_TRACEPOINT][0] / max(1, cost[RAW_TRACEPOINT][1])}
    finally:
        for p in (rec, target):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()


def rounds_so_far(target):
    """The workload's progress: its main thread's voluntary switches stand in for rounds (one read per round)."""
    with open(f"/proc/{target.pid}/task/{target.pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=float, default=10000, help="target voluntary context switches per second")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench offcpu: run as root (BPF programs, bpf_stats_enabled)")
    work = tempfile.mkdtemp(prefix="mw-offcpu-")
    exe = os.path.join(work, "pingpong")
    subprocess.run(["gcc", "-O2", "-pthread", "-o", exe, os.path.join(ROOT, "testdata/native/pingpong.c")], check=True)
    subprocess.run([os.path.join(ROOT, "moonwalk"), "version"], check=True, stdout=subprocess.DEVNULL)
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        stats_before = f.read().strip()
    modes = ["none", "cpu", "offcpu-1ms", "offcpu-1us"]
    results = {m: [] for m in modes}
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        for r in range(args.rounds):
            for m in modes:
                res = one_round(m, exe, args, work)
                results[m].append(res)
                print(f"round {r + 1} {m:11s} " + " ".join(f"{k}={v:.3f}" for k, v in res.items()), flush=True)
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(stats_before)
    base = statistics.median(x["rounds"] for x in results["none"])
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"\noff-CPU probe cost, medians of {args.rounds} interleaved rounds of {args.seconds:.0f} s (load average {load}):")
    print(f"| mode | context switches/s | CPU sampler BPF (% of a core) | off-CPU probes BPF (% of a core) |"
          f" off-CPU probe runs/s | ns per probe run | workload rounds vs none |")
    print("|---|---|---|---|---|---|---|")
    for m in modes:
        med = {k: statistics.median(x[k] for x in results[m]) for k in results[m][0]}
        print(f"| {m} | {med['switches']:.0f} | {med['sampler_pct']:.3f} | {med['offcpu_pct']:.3f} |"
              f" {med['offcpu_runs']:.0f} | {med['offcpu_ns_per_run']:.0f} | {med['rounds'] / base:.3f} |")


if __name__ == "__main__":
    main()
