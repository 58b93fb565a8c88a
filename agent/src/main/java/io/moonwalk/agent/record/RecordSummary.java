package io.moonwalk.agent.record;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.symbolize.LuaFrameSymbolizer;
import io.moonwalk.agent.symbolize.ProtoPrefetcher;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The text {@code record} prints when it is done. */
public final class RecordSummary {
    private static final int TOP_PROCESSES = 10;

    private RecordSummary() {
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
        long[] k = recording.kernelStats();
        sb.append(String.format("  lost in kernel (ring buffer full): %d, dropped in agent (table full): %d%n",
                k.length > RecordLayout.STAT_RINGBUF_FULL ? k[RecordLayout.STAT_RINGBUF_FULL] : 0, recording.droppedInAgent()));
        if (k.length > RecordLayout.STAT_UNWIND_COMPLETE) {
            sb.append(String.format("  user stacks: %d complete, %d ended in an error frame, %d before their process"
                    + " was synced (frame pointers only)%n", k[RecordLayout.STAT_UNWIND_COMPLETE],
                    k[RecordLayout.STAT_UNWIND_ERRORS], k[RecordLayout.STAT_NOT_SYNCED]));
        }
        if (k.length > RecordLayout.STAT_LUA_ERRORS && k[RecordLayout.STAT_LUA_SEGMENTS] > 0) {
            LuaFrameSymbolizer lua = recording.luaFrames();
            sb.append(String.format("  lua: %d interpreter frames walked, %d ended in a Lua error frame; frames named %d,"
                    + " stale %d, invalid %d%n", k[RecordLayout.STAT_LUA_SEGMENTS], k[RecordLayout.STAT_LUA_ERRORS],
                    lua == null ? 0 : lua.named(), lua == null ? 0 : lua.stale(), lua == null ? 0 : lua.invalid()));
            ProtoPrefetcher pf = recording.protoPrefetcher();
            if (pf != null) {
                sb.append(String.format("  lua protos read while sampling: %d frames read, %d failed, %d dropped"
                        + " (queue full)%n", pf.read(), pf.failed(), pf.dropped()));
            }
        }
        if (k.length > RecordLayout.STAT_JIT_CFA_DISAGREE && k[RecordLayout.STAT_JIT_SEGMENTS] > 0) {
            sb.append(String.format("  jit: %d trace frames walked, vmstate named no trace holding the PC in %d (%.2f%%),"
                    + " CFA disagreed in %d%n", k[RecordLayout.STAT_JIT_SEGMENTS], k[RecordLayout.STAT_JIT_UNMATCHED],
                    100.0 * k[RecordLayout.STAT_JIT_UNMATCHED] / k[RecordLayout.STAT_JIT_SEGMENTS],
                    k[RecordLayout.STAT_JIT_CFA_DISAGREE]));
        }
        for (var h : recording.jitHealth()) {
            sb.append(String.format("  luajit vm pid %d g 0x%x: jit %s, traces %d/%d (%d side), mcode %d/%d KB in %d areas,"
                    + " flushes %d%n", h.pid(), h.g(), h.jitOn() ? "on" : "off", h.liveTraces(), h.maxTrace(),
                    h.sideTraces(), h.mcodeBytes() >> 10, h.maxMcodeBytes() >> 10, h.areas(), h.flushes()));
        }
        recording.jitRoutes().forEach((pid, r) -> sb.append(String.format(
                "  luajit routes pid %d: %d pid_maps entries for %d mcode areas%n", pid, r[0], r[1])));
        if (!recording.mapFill().isEmpty()) {
            sb.append("  unwinder maps:");
            recording.mapFill().forEach(f -> sb.append(" ").append(f).append(";"));
            sb.append(System.lineSeparator());
        }
        for (Path out : outputs) {
            sb.append("  wrote ").append(out).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
