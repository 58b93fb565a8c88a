package io.moonwalk.agent.record;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.session.SessionStats;
import io.moonwalk.interpreter.InterpreterStats;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The text {@code record} prints when it is done. */
public final class RecordSummary {
    private static final int TOP_PROCESSES = 10;

    private RecordSummary() {
    }

    private static long stat(long[] k, int index) {
        return index < k.length ? k[index] : 0;
    }

    public static String of(Recording recording, Profile profile, List<Path> outputs) {
        Map<ProcessIdentity, Long> perProcess = new HashMap<>();
        for (Profile.Entry e : profile.entries()) {
            perProcess.merge(e.process(), e.count(), Long::sum);
        }
        long total = profile.totalSamples();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("moonwalk: %d samples from %d processes in %.1f s%s%n", total, perProcess.size(),
                recording.elapsed().toMillis() / 1000.0, recording.targetsGone() ? " (all target processes exited)" : ""));
        perProcess.entrySet().stream()
                .sorted(Map.Entry.<ProcessIdentity, Long>comparingByValue().reversed())
                .limit(TOP_PROCESSES)
                .forEach(en -> sb.append(String.format("  %6.2f%%  %8d  %s[%d]%n",
                        total == 0 ? 0.0 : 100.0 * en.getValue() / total, en.getValue(),
                        en.getKey().command(), en.getKey().pid())));
        SessionStats stats = recording.stats();
        long[] k = stats.kernelStats();
        sb.append(String.format("  lost in kernel (ring buffer full): %d, dropped in agent (table full): %d%n",
                k.length > RecordLayout.STAT_RINGBUF_FULL ? k[RecordLayout.STAT_RINGBUF_FULL] : 0,
                stats.windowTableDrops()));
        if (k.length > RecordLayout.STAT_UNWIND_COMPLETE) {
            sb.append(String.format("  user stacks: %d complete, %d ended in an error frame, %d before their process"
                    + " was synced (frame pointers only)%n", k[RecordLayout.STAT_UNWIND_COMPLETE],
                    k[RecordLayout.STAT_UNWIND_ERRORS], k[RecordLayout.STAT_NOT_SYNCED]));
        }
        Profile blocked = recording.offCpuProfile();
        if (blocked != null) {
            sb.append(String.format("  off-CPU: %.3f s blocked in %d stacks; waits %d kept, %d shorter than the minimum,"
                    + " %d lost%n", blocked.totalSamples() / 1e9, blocked.entries().size(),
                    stat(k, RecordLayout.STAT_OFF_CPU_SAMPLES), stat(k, RecordLayout.STAT_OFF_CPU_SHORT),
                    stat(k, RecordLayout.STAT_OFF_CPU_LOST)));
        }
        Profile mapped = recording.mmapProfile();
        if (mapped != null) {
            double secs = Math.max(0.001, recording.elapsed().toMillis() / 1000.0);
            sb.append(String.format("  mmap events: %d calls of LuaJIT processes, %d walked (%d in stacks), %d not"
                    + " counted (table full)%n", stat(k, RecordLayout.STAT_MMAP_CALLS),
                    stat(k, RecordLayout.STAT_MMAP_SAMPLES), mapped.totalSamples(), stat(k, RecordLayout.STAT_MMAP_LOST)));
            recording.mmapCounts().forEach((pid, c) -> sb.append(String.format(
                    "    pid %d: mmap %d (%.1f/s), munmap %d (%.1f/s), mprotect %d (%.1f/s)%n", pid, c[0], c[0] / secs,
                    c[1], c[1] / secs, c[2], c[2] / secs)));
        }
        for (InterpreterStats in : stats.interpreters()) {
            for (String line : in.summary()) {
                sb.append("  ").append(line).append(System.lineSeparator());
            }
        }
        if (!stats.mapFill().isEmpty()) {
            sb.append("  unwinder maps:");
            stats.mapFill().forEach(f -> sb.append(" ").append(f).append(";"));
            sb.append(System.lineSeparator());
        }
        for (Path out : outputs) {
            sb.append("  wrote ").append(out).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
