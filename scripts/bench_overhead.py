#!/usr/bin/python3
"""Agent overhead benchmark: `sudo scripts/bench overhead [options]` (see README "Overhead").

Starts nginx + lua-nginx-module (testdata/nginx/overhead.conf: 2 workers, JIT on) saturated by wrk
on loopback, then runs the modes below interleaved, round after round, and measures per mode:
process CPU of the profiler (utime+stime from /proc/PID/stat, in cores), the summed BPF run_time_ns of
the agent's own programs per wall second (kernel.bpf_stats_enabled=1), RSS (max and at the end),
samples per second, and wrk's throughput as a ratio to the no-profiler round of the same round.

Modes: none (wrk only), agent-19 / agent-99 (`moonwalk agent --hz N`, local store), perf-g
(`perf record -F 99 -g -a`), perf-dwarf (`perf record -F 99 --call-graph dwarf -a`), idle-19 (the agent
at 19 Hz with no load), procsN-HZ (the agent at HZ Hz on the whole host under the same load, with N extra
small processes started for the round: every 10th a LuaJIT VM with compiled traces, the others sleep, cat,
tail and sh, all blocked; the memory bound with many processes). Each agent round is a fresh agent: started, warmed up for --warmup seconds
under the same load, then measured for --round seconds. Ends with one `moonwalk record` of the workload
checking that worker samples in Lua reach ngx_http_lua_run_thread -> the Lua handler.

Prints the table (medians over rounds) and writes docs/overhead.md and docs/overhead.png.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cpu_seconds(pid):
    """utime+stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bpf_programs(owner_pid):
    """(run_time_ns, run_cnt, prog_type) by program id of the BPF programs whose file descriptors owner_pid holds
    (its own programs, not other processes' mw_* programs), from /proc/PID/fdinfo."""
    progs = {}
    fdinfo = f"/proc/{owner_pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except OSError:
            continue
        if "prog_id" in info and "run_time_ns" in info:
            progs[int(info["prog_id"])] = (int(info["run_time_ns"]), int(info["run_cnt"]), int(info["prog_type"]))
    return progs


def bpf_run_time_ns(owner_pid):
    """Summed run_time_ns of owner_pid's BPF programs, and run_cnt of its perf_event programs (= samples handled)."""
    progs = bpf_programs(owner_pid)
    ns = sum(v[0] for v in progs.values())
    cnt = sum(v[1] for v in progs.values() if v[2] == 7)  # BPF_PROG_TYPE_PERF_EVENT
    return ns, cnt


class RssWatch(threading.Thread):
    """Samples a process's RSS every 0.5 s; keeps the max."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.max, self.last, self.stop = pid, 0, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.last = rss_bytes(self.pid)
                self.max = max(self.max, self.last)
            except OSError:
                return
            self.stop.wait(0.5)


class Workload:
    def __init__(self, work):
        self.port = free_port()
        self.prefix = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        with open(os.path.join(ROOT, "testdata/nginx/overhead.conf")) as f:
            conf = f.read().replace("@PORT@", str(self.port))
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen(["nginx", "-p", self.prefix, "-c", self.conf, "-e", "stderr"],
                                     stderr=open(os.path.join(work, "nginx.log"), "w"))
        url = f"http://127.0.0.1:{self.port}/work"
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("nginx did not answer on " + url + " (see nginx.log)")
        self.url = url

    def pids(self):
        kids = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        return [self.proc.pid] + [int(k) for k in kids]

    def wrk(self, seconds):
        """Runs wrk for a bounded time; returns requests per second."""
        out = subprocess.run(["wrk", "-t1", "-c8", f"-d{int(seconds)}s", self.url],
                             capture_output=True, text=True, timeout=seconds + 30).stdout
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        return float(m.group(1)) if m else float("nan")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Load:
    """wrk in the background for a bounded time."""

    def __init__(self, workload, seconds):
        self.rps = None
        self.t = threading.Thread(target=self._run, args=(workload, seconds), daemon=True)
        self.t.start()

    def _run(self, workload, seconds):
        self.rps = workload.wrk(seconds)

    def join(self):
        self.t.join()
        return self.rps


def metric(port, name):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return float("nan")
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class ManyProcs:
    """N small blocked processes for one round (LuaJIT every 10th, after compiling a few traces), killed after."""
    LUA = "local s = 0 for i = 1, 300000 do s = s + i % 7 end for i = 1, 300000 do s = s + i % 5 end io.read()"

    def __init__(self, n):
        self.procs = []
        kinds = [["sleep", "3600"], ["cat"], ["tail", "-f", "/dev/null"], ["sh", "-c", "read x"]]
        try:
            for i in range(n):
                cmd = ["luajit", "-e", self.LUA] if i % 10 == 0 else kinds[i % len(kinds)]
                self.procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.DEVNULL))
        except Exception:
            self.close()
            raise
        time.sleep(2)  # the LuaJIT ones compile their loops, then all block
        alive = sum(p.poll() is None for p in self.procs)
        if alive != n:
            self.close()
            raise SystemExit(f"procs mode: only {alive} of {n} extra processes are alive")

    def close(self):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
            if p.stdin:
                p.stdin.close()


def run_agent(args, workload, hz, load, work, jvm_defaults=False, extra_procs=0):
    port = free_port()
    store = tempfile.mkdtemp(dir=work, prefix="store-")
    cmd = [os.path.join(ROOT, "moonwalk"), "agent", "--hz", str(hz), "--store-dir", store,
           "--listen", f"127.0.0.1:{port}"]
    many = ManyProcs(extra_procs) if extra_procs else None
    if args.scope == "nginx" and not many:
        cmd += ["--pid", ",".join(map(str, workload.pids()))]
    env = dict(os.environ, MOONWALK_NO_BUILD="1")
    if jvm_defaults:
        env["MOONWALK_JVM_OPTIONS"] = "none"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "agent.log"), "a"))
    try:
        warm = Load(workload, args.warmup) if load else None
        deadline = time.time() + args.warmup
        while time.time() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the agent exited with {proc.returncode} (see {work}/agent.log)")
            time.sleep(0.5)
        if warm:
            warm.join()
        metric(port, "moonwalk_samples_total")  # the first scrape loads the exporter: not part of the figure
        watch = RssWatch(proc.pid)
        watch.start()
        la0 = loadavg()
        c0, (b0, n0), s0, t0 = cpu_seconds(proc.pid), bpf_run_time_ns(proc.pid), metric(port, "moonwalk_samples_total"), time.time()
        rps = workload.wrk(args.round) if load else (time.sleep(args.round) or float("nan"))
        c1, (b1, n1), s1, t1 = cpu_seconds(proc.pid), bpf_run_time_ns(proc.pid), metric(port, "moonwalk_samples_total"), time.time()
        watch.stop.set()
        watch.join()
        wall = t1 - t0
        return dict(cpu=(c1 - c0) / wall, bpf=(b1 - b0) / 1e9 / wall, rss_max=watch.max, rss_end=watch.last,
                    samples=(s1 - s0) / wall, bpf_per_sample_us=((b1 - b0) / (n1 - n0) / 1e3) if n1 > n0 else float("nan"),
                    rps=rps, load=(la0 + loadavg()) / 2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(store, ignore_errors=True)
        if many:
            many.close()


def run_perf(args, workload, dwarf, work):
    data = os.path.join(work, "perf.data")
    cg = ["--call-graph", "dwarf"] if dwarf else ["-g"]
    proc = subprocess.Popen(["perf", "record", "-F", "99", *cg, "-a", "-o", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        watch = RssWatch(proc.pid)
        watch.start()
        la0 = loadavg()
        c0, t0 = cpu_seconds(proc.pid), time.time()
        rps = workload.wrk(args.round)
        c1, t1 = cpu_seconds(proc.pid), time.time()
        watch.stop.set()
        watch.join()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    m = re.search(r"\((\d+) samples\)", err)
    wall = t1 - t0
    os.unlink(data) if os.path.exists(data) else None
    return dict(cpu=(c1 - c0) / wall, bpf=float("nan"), rss_max=watch.max, rss_end=watch.last,
                samples=(int(m.group(1)) / (wall + 1)) if m else float("nan"), bpf_per_sample_us=float("nan"),
                rps=rps, load=(la0 + loadavg()) / 2)


def run_none(args, workload):
    la0 = loadavg()
    rps = workload.wrk(args.round)
    return dict(cpu=0.0, bpf=0.0, rss_max=0, rss_end=0, samples=0.0, bpf_per_sample_us=float("nan"),
                rps=rps, load=(la0 + loadavg()) / 2)


def fidelity(args, workload, work):
    """One `moonwalk record` of the workload: share of worker samples in Lua whose stack reaches
    ngx_http_lua_run_thread and, above it, a Lua frame of the handler's chunk."""
    out = os.path.join(work, "record.folded")
    load = Load(workload, args.record + 15)
    time.sleep(3)
    subprocess.run([os.path.join(ROOT, "moonwalk"), "record", "--pid", ",".join(map(str, workload.pids()[1:])),
                    "--hz", "99", "--duration", f"{args.record}s", "--output", out],
                   env=dict(os.environ, MOONWALK_NO_BUILD="1"), check=True,
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "record.log"), "w"))
    load.join()
    lua = ok = 0
    lua_frame = re.compile(r"\(.*:\d+\)(_\[j\])?$")
    with open(out) as f:
        for line in f:
            stack, n = line.rstrip("\n").rsplit(" ", 1)
            frames = stack.split(";")
            if not any(lua_frame.search(fr) for fr in frames):
                continue
            lua += int(n)
            try:
                i = frames.index("ngx_http_lua_run_thread")
            except ValueError:
                continue
            above = frames[i + 1:]
            if any(lua_frame.search(fr) and "content_by_lua" in fr for fr in above):
                ok += int(n)
    return lua, ok


def median(rows, key):
    vals = [r[key] for r in rows if r[key] == r[key]]
    return statistics.median(vals) if vals else float("nan")


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench overhead")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--round", type=int, default=30, help="measured seconds per mode per round")
    ap.add_argument("--warmup", type=int, default=40, help="seconds an agent runs under load before it is measured")
    ap.add_argument("--modes", default="none,agent-19,agent-99,perf-g,perf-dwarf,idle-19,agent-19-jvmdefaults,procs500-19",
                    help="comma-separated: none, agent-HZ, agent-HZ-jvmdefaults (JVM defaults instead of "
                         "deploy/jvm.options), idle-HZ (no load), procsN-HZ (whole host, N extra processes), perf-g, "
                         "perf-dwarf")
    ap.add_argument("--scope", choices=["host", "nginx"], default="host",
                    help="agent samples the whole host, or only nginx (--pid; for a shared machine)")
    ap.add_argument("--record", type=int, default=20, help="seconds of the fidelity `moonwalk record` (0: skip)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"), help="where overhead.md/.png go ('' : nowhere)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("scripts/bench overhead needs root (BPF, perf, bpf_stats_enabled)")
    modes = args.modes.split(",")
    work = tempfile.mkdtemp(prefix="mw-overhead-")
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        stats_before = f.read().strip()
    subprocess.run(["sysctl", "-q", "-w", "kernel.bpf_stats_enabled=1"], check=True)
    workload = Workload(work)
    results = {m: [] for m in modes}
    try:
        log(f"nginx on {workload.url}, workers {workload.pids()[1:]}; warming up {min(args.warmup, 10)} s")
        workload.wrk(min(args.warmup, 10))
        for r in range(args.rounds):
            for m in modes:
                log(f"round {r + 1}/{args.rounds}: {m}")
                if m == "none":
                    res = run_none(args, workload)
                elif m.startswith("agent-"):
                    hz, _, variant = m[6:].partition("-")
                    res = run_agent(args, workload, int(hz), True, work, jvm_defaults=variant == "jvmdefaults")
                elif m.startswith("idle-"):
                    res = run_agent(args, workload, int(m[5:]), False, work)
                elif m.startswith("procs"):
                    n, _, hz = m[5:].partition("-")
                    res = run_agent(args, workload, int(hz), True, work, extra_procs=int(n))
                elif m == "perf-g":
                    res = run_perf(args, workload, False, work)
                elif m == "perf-dwarf":
                    res = run_perf(args, workload, True, work)
                else:
                    raise SystemExit("unknown mode " + m)
                none = results.get("none", [])
                res["ratio"] = (res["rps"] / none[-1]["rps"] if m != "none" and none and res["rps"] == res["rps"]
                                else float("nan"))
                results[m].append(res)
                log("  " + ", ".join(f"{k}={v:.4g}" for k, v in res.items()))
        lua = ok = None
        if args.record > 0:
            log(f"fidelity: moonwalk record of the workers for {args.record} s")
            lua, ok = fidelity(args, workload, work)
    finally:
        workload.close()
        subprocess.run(["sysctl", "-q", "-w", f"kernel.bpf_stats_enabled={stats_before}"])
    report(args, modes, results, lua, ok)
    shutil.rmtree(work, ignore_errors=True)


def report(args, modes, results, lua, ok):
    head = ("| mode | profiler CPU (% of a core) | BPF (% of a core) | BPF µs/sample | RSS max / end (MB) "
            "| samples/s | wrk req/s | vs none | load avg |")
    lines = [head, "|" + "---|" * 9]
    for m in modes:
        rows = results[m]
        f = lambda k, s=1, d=2: ("n/a" if median(rows, k) != median(rows, k) else f"{median(rows, k) * s:.{d}f}")
        rss = "n/a" if m == "none" else f"{median(rows, 'rss_max') / 2**20:.0f} / {median(rows, 'rss_end') / 2**20:.0f}"
        lines.append(f"| {m} | {f('cpu', 100)} | {f('bpf', 100, 3)} | {f('bpf_per_sample_us')} | {rss} "
                     f"| {f('samples', 1, 1)} | {f('rps', 1, 0)} | {f('ratio', 1, 3)} | {f('load', 1, 1)} |")
    cfg = (f"{args.rounds} interleaved rounds of {args.round} s per mode, each agent warmed up {args.warmup} s under "
           f"the same load; medians; agent scope: {args.scope}; {os.cpu_count()} CPUs; "
           f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    fid = ""
    if lua is not None:
        pct = 100 * ok / lua if lua else float("nan")
        fid = (f"Fidelity (`moonwalk record --hz 99` of the workers, {args.record} s): {ok} of {lua} worker samples "
               f"in Lua reach ngx_http_lua_run_thread -> the content_by_lua handler ({pct:.1f} %).")
    table = "\n".join(lines)
    print(table)
    print(cfg)
    if fid:
        print(fid)
    if not args.out:
        return
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "overhead.md"), "w") as f:
        f.write("# Overhead: `scripts/bench overhead`\n\n" + cfg + ".\n\n" + table + "\n\n" + (fid + "\n\n" if fid else "")
                + "Per round: " + "; ".join(
                    f"{m}: " + " ".join(f"{r['cpu'] * 100:.2f}" for r in results[m]) for m in modes) +
                " (profiler CPU, % of a core).\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("python3-matplotlib missing (scripts/bootstrap installs it): no plot")
        return
    shown = [m for m in modes if m != "none"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    cpu = [median(results[m], "cpu") * 100 for m in shown]
    bpf = [(median(results[m], "bpf") * 100 if median(results[m], "bpf") == median(results[m], "bpf") else 0) for m in shown]
    ax.bar(shown, cpu, label="profiler process CPU")
    ax.bar(shown, bpf, bottom=cpu, label="BPF programs (run_time_ns)")
    for i, m in enumerate(shown):
        pts = [r["cpu"] * 100 for r in results[m]]
        ax.scatter([i] * len(pts), pts, color="black", s=8, zorder=3)
    ax.set_ylabel("% of one core (median; dots: rounds)")
    ax.set_title(f"Profiler CPU, nginx+Lua under wrk ({args.rounds}x{args.round} s, warm-up {args.warmup} s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "overhead.png"), dpi=100)


if __name__ == "__main__":
    main()
