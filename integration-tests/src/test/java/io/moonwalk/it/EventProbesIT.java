package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The event probes (the off-CPU scheduler hooks, the mmap system-call hook and the event walkers they call) are in
 * the kernel only when asked for, in {@code record} and in {@code agent} alike: what each process holds is read from
 * its own file descriptors (/proc/PID/fdinfo: prog_id, link_type, tp_name) and the programs named by bpftool, so
 * other tests loading mw_ programs meanwhile do not count.
 */
class EventProbesIT {
    private static final List<String> OFF_CPU = List.of("prog mw_off_cpu_switch", "prog mw_off_cpu_exit",
            "link mw_off_cpu_switch", "link mw_off_cpu_exit", "raw_tracepoint sched_switch",
            "raw_tracepoint sys_exit");
    private static final List<String> MMAP = List.of("prog mw_mmap_enter", "link mw_mmap_enter",
            "raw_tracepoint sys_enter");
    private static final List<String> EVENT_WALKERS = List.of("prog mw_ev_walk", "prog mw_ev_lua_walk");

    @BeforeAll
    static void requireRoot() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"record", "agent"})
    void eventProbesAreInTheKernelOnlyWithTheirOption(String command) throws Exception {
        Process target = new ProcessBuilder("sleep", "120").start();
        try {
            List<String> none = probes(command, target.pid(), List.of());
            List<String> offCpu = probes(command, target.pid(), List.of("--off-cpu"));
            List<String> mmap = probes(command, target.pid(), List.of("--mmap-events"));
            System.out.printf("%s: event programs and links without an option: %s; with --off-cpu: %s; with"
                    + " --mmap-events: %s%n", command, none, offCpu, mmap);
            assertThat(none).as("%s without --off-cpu or --mmap-events", command).isEmpty();
            assertThat(offCpu).as("%s --off-cpu", command).containsAll(OFF_CPU).containsAll(EVENT_WALKERS)
                    .noneMatch(p -> p.contains("mmap"));
            assertThat(mmap).as("%s --mmap-events", command).containsAll(MMAP).containsAll(EVENT_WALKERS)
                    .noneMatch(p -> p.contains("off_cpu"));
        } finally {
            target.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** The event programs (mw_off_cpu_*, mw_mmap_*, mw_ev_*) and raw tracepoint links {@code command} holds. */
    private static List<String> probes(String command, long target, List<String> options) throws Exception {
        if (command.equals("agent")) {
            List<String> args = new ArrayList<>(List.of("--pid", Long.toString(target), "--store", "on",
                    "--store-dir", Files.createTempDirectory(Moonwalk.WORK, "probes-store").toString()));
            args.addAll(options);
            try (RunningAgent agent = RunningAgent.start(Map.of(), args.toArray(String[]::new))) {
                return held(agent.process.pid());
            }
        }
        Path err = Files.createTempFile(Moonwalk.WORK, "probes", ".err");
        List<String> args = new ArrayList<>(List.of("record", "--pid", Long.toString(target), "--duration", "60s",
                "--output", Files.createTempFile(Moonwalk.WORK, "probes", ".folded").toString()));
        args.addAll(options);
        Process rec = Moonwalk.command(args).redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(err).contains("recording") && rec.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(Files.readString(err)).as("record announces it is recording").contains("recording");
            return held(rec.pid());
        } finally {
            rec.destroy();
            assertThat(rec.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static List<String> held(long pid) throws Exception {
        List<String> found = new ArrayList<>();
        Set<String> progIds = new TreeSet<>();
        List<String> linkedProgIds = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fdinfo"))) {
            for (Path fd : fds.toList()) {
                Map<String, String> info = fdinfo(fd);
                if (info.containsKey("prog_id")) {
                    progIds.add(info.get("prog_id"));
                }
                if (info.containsKey("link_type")) {
                    linkedProgIds.add(info.get("prog_id"));
                }
                if ("raw_tracepoint".equals(info.get("link_type"))) {
                    found.add("raw_tracepoint " + info.get("tp_name"));
                }
            }
        }
        assertThat(progIds).as("the process holds its BPF programs (the check can see them)").isNotEmpty();
        for (String id : progIds) {
            Matcher m = Pattern.compile("name (\\S+)").matcher(Moonwalk.tool("bpftool", "prog", "show", "id", id));
            if (m.find() && m.group(1).matches("mw_(off_cpu|mmap|ev)_.*")) {
                found.add("prog " + m.group(1));
                if (linkedProgIds.contains(id)) {
                    found.add("link " + m.group(1));
                }
            }
        }
        return found;
    }

    private static Map<String, String> fdinfo(Path fd) {
        Map<String, String> info = new java.util.HashMap<>();
        try {
            for (String line : Files.readAllLines(fd)) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    info.put(line.substring(0, colon), line.substring(colon + 1).trim());
                }
            }
        } catch (java.io.IOException closedMeanwhile) {
            // an fd closed between listing and reading
        }
        return info;
    }
}
