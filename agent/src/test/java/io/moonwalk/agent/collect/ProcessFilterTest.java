package io.moonwalk.agent.collect;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.daemon.AgentOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("tools")
class ProcessFilterTest {
    private static final String DOCKER = "0::/system.slice/docker-4f1c0d2e9a7b3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5.scope\n";
    private static final String SERVICE = "0::/system.slice/nginx.service\n";

    @Test
    void cgroupPrefixMatchesWholeComponents() {
        ProcessSelector s = new ProcessSelector(Set.of(), Set.of(), List.of("/system.slice/nginx.service"));
        assertThat(s.matchesCgroup(SERVICE)).isTrue();
        assertThat(s.matchesCgroup("0::/system.slice/nginx.service/worker\n")).isTrue();
        assertThat(s.matchesCgroup("0::/system.slice/nginx.services\n")).isFalse();
        assertThat(s.matchesCgroup(DOCKER)).isFalse();
    }

    @Test
    void containerIdMatchesByPrefix() {
        ProcessSelector s = new ProcessSelector(Set.of(), Set.of("4f1c0d2e9a7b"), List.of());
        assertThat(s.matchesCgroup(DOCKER)).isTrue();
        assertThat(s.matchesCgroup(SERVICE)).isFalse();
    }

    @Test
    void executableNameFromProcExe(@TempDir Path proc) throws Exception {
        Files.createDirectories(proc.resolve("10"));
        Files.createSymbolicLink(proc.resolve("10/exe"), Path.of("/usr/sbin/nginx"));
        Files.createDirectories(proc.resolve("11"));
        Files.createSymbolicLink(proc.resolve("11/exe"), Path.of("/usr/bin/luajit (deleted)"));
        Files.createDirectories(proc.resolve("12")); // kernel thread: no exe link
        ProcessSelector s = new ProcessSelector(Set.of("nginx", "luajit"), Set.of(), List.of());
        assertThat(s.accepts(proc, 10)).isTrue();
        assertThat(s.accepts(proc, 11)).isTrue();
        assertThat(s.accepts(proc, 12)).isFalse();
        assertThat(s.accepts(proc, 13)).isFalse();
        assertThat(new ProcessSelector(Set.of("bash"), Set.of(), List.of()).accepts(proc, 10)).isFalse();
    }

    @Test
    void decisionsAreCachedUntilExitAndTheTableStaysBounded(@TempDir Path proc) throws Exception {
        Files.createDirectories(proc.resolve("10"));
        Files.createSymbolicLink(proc.resolve("10/exe"), Path.of("/usr/sbin/nginx"));
        ProcessSelector s = new ProcessSelector(Set.of("nginx"), Set.of(), List.of());
        int[] passed = new int[1];
        ProcessFilter f = new ProcessFilter(s, new io.moonwalk.agent.bpf.RecordHandler() {
            @Override
            public void onSample(io.moonwalk.agent.bpf.SampleRecord r) {
                passed[0]++;
            }

            @Override
            public void onExit(int pid, long ktimeNanos) {
            }
        }, proc);
        // decisions without records: go through the private path via many pids
        var accepted = ProcessFilter.class.getDeclaredMethod("accepted", int.class);
        accepted.setAccessible(true);
        assertThat((boolean) accepted.invoke(f, 10)).isTrue();
        Files.delete(proc.resolve("10/exe")); // cached: still accepted
        assertThat((boolean) accepted.invoke(f, 10)).isTrue();
        f.onExit(10, 0);                      // forgotten at exit: re-read, now rejected
        assertThat((boolean) accepted.invoke(f, 10)).isFalse();
        for (int pid = 100; pid < 100 + 3 * ProcessFilter.CAPACITY; pid++) {
            assertThat((boolean) accepted.invoke(f, pid)).isFalse();
        }
    }

    @Test
    void windowLengthsStayWithinTheJitter() {
        AgentOptions o = new AgentOptions(19, Set.of(), ProcessSelector.ALL, java.time.Duration.ofSeconds(5), 0.2,
                1 << 22, java.time.Duration.ofSeconds(5));
        assertThat(o.nextWindowNanos(0.0)).isEqualTo(4_000_000_000L);
        assertThat(o.nextWindowNanos(0.5)).isEqualTo(5_000_000_000L);
        assertThat(o.nextWindowNanos(0.999999)).isBetween(5_999_000_000L, 6_000_000_000L);
    }
}
