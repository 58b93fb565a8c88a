package io.moonwalk.luajit.jit;

import io.moonwalk.luajit.abort.PenaltyReader;
import io.moonwalk.luajit.abort.SiteNamer;
import io.moonwalk.luajit.abort.VmAborts;
import io.moonwalk.luajit.gc.GcHeapReader;
import io.moonwalk.process.ProcessMemory;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test (it asserts nothing about time): the CPU the JIT sync spends per VM and poll on the
 * existing JIT-state read and on the reads the diagnostics add (GC heap, penalty cache and its tally), interleaved
 * in rounds against the same live VM (the one of {@code trace_aborts.lua}, 25+ cached abort sites), printed side by
 * side. The sync polls each VM once a second, so these are also the added CPU per VM and second.
 */
@Tag("tools")
class VmPollCostBenchmark {
    private static final int ROUNDS = 10;
    private static final int READS = 500;

    @Test
    void printsTheCpuOfEachReadPerVmPoll() throws Exception {
        JitTargets target = JitTargets.INSTALLED_OPENRESTY_GC64;
        ProcessBuilder pb = new ProcessBuilder(target.exe().toString(), JitTargets.lua("trace_aborts.lua").toString());
        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (ProcessMemory mem = new ProcessMemory()) {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            long thread = 0;
            for (String l; (l = out.readLine()) != null && !l.equals("READY"); ) {
                if (l.startsWith("THREAD ")) {
                    thread = LuaRun.hex(l.substring(7));
                }
            }
            int pid = (int) p.pid();
            JitStateReader jit = new JitStateReader(mem, target.layout());
            long g = jit.globalOfThread(pid, thread);
            GcHeapReader gc = new GcHeapReader(mem, target.layout());
            PenaltyReader penalty = new PenaltyReader(mem, target.layout());
            SiteNamer namer = new SiteNamer(mem, target.layout());
            VmAborts aborts = new VmAborts();
            aborts.observe(penalty.read(pid, g), namer); // sites are named once, at their first abort
            ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
            long jitNs = 0;
            long diagNs = 0;
            long detectNs = 0;
            // two reads of the VM: the flush detector (and its traces-compiled count) compares each with the last
            JitSnapshot[] snaps = {jit.read(pid, g), jit.read(pid, g)};
            FlushDetector detector = new FlushDetector();
            for (int r = 0; r < ROUNDS; r++) {
                long t0 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < READS; i++) {
                    jit.read(pid, g);
                }
                long t1 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < READS; i++) {
                    gc.read(pid, g);
                    aborts.observe(penalty.read(pid, g, aborts.last()), namer);
                }
                long t2 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < READS; i++) {
                    detector.observe(snaps[i & 1]);
                }
                long t3 = cpu.getCurrentThreadCpuTime();
                jitNs += t1 - t0;
                diagNs += t2 - t1;
                detectNs += t3 - t2;
                System.out.printf("round %2d: JIT state %6.1f us/poll, GC heap + penalty cache %6.1f us/poll, flush and"
                        + " compile detection %6.2f us/poll%n", r, (t1 - t0) / 1e3 / READS, (t2 - t1) / 1e3 / READS,
                        (t3 - t2) / 1e3 / READS);
            }
            System.out.printf("per VM and poll (1/s): JIT state %.1f us CPU, diagnostics add %.1f us CPU (%.0f%%),"
                    + " flush and compile detection %.2f us (%d traces); %d abort sites cached%n",
                    jitNs / 1e3 / ROUNDS / READS, diagNs / 1e3 / ROUNDS / READS, 100.0 * diagNs / jitNs,
                    detectNs / 1e3 / ROUNDS / READS, snaps[0].liveTraces(), aborts.top(VmAborts.MAX_SITES).size());
        } finally {
            p.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
