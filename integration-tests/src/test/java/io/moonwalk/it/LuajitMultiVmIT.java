package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.frame.Frame;
import io.moonwalk.frame.FrameKind;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.PprofReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code testdata/luajit/multivm.c}: three LuaJIT VMs on three threads of one process, each running its own Lua
 * file with the JIT on. {@code record --pid} must give every VM its own {@code luajit.vm} label and only its own
 * file's frames under it (read from the {@code .pb.gz} output, the format that keeps labels).
 */
class LuajitMultiVmIT {
    private static final List<String> FILES = List.of("vm_fib.lua", "vm_strings.lua", "shares.lua");

    @Test
    void everyVmHasItsOwnLabelAndOnlyItsOwnFrames() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        Files.createDirectories(Moonwalk.WORK);
        Path exe = Moonwalk.WORK.resolve("multivm");
        Moonwalk.tool("gcc", "-O1", "-Wall", "-pthread", Moonwalk.ROOT.resolve("testdata/luajit/multivm.c").toString(),
                "-I/usr/include/luajit-2.1", "-lluajit-5.1", "-o", exe.toString());
        List<String> cmd = new java.util.ArrayList<>(List.of(exe.toString(), "12"));
        FILES.forEach(f -> cmd.add(Moonwalk.ROOT.resolve("testdata/lua/" + f).toString()));
        Process host = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Thread.sleep(500);
            Path pb = Files.createTempFile(Moonwalk.WORK, "multivm", ".pb.gz");
            Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(60), "record", "--pid", String.valueOf(host.pid()),
                    "--hz", "299", "--duration", "5s", "--output", pb.toString());
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            // vm label -> Lua files whose frames appear under it, and its samples
            Map<String, Set<String>> filesOf = new TreeMap<>();
            Map<String, Long> samplesOf = new TreeMap<>();
            long lua = 0;
            for (Profile.Entry e : PprofReader.read(pb).entries()) {
                String vm = e.labels().get("luajit.vm");
                Set<String> files = new TreeSet<>();
                for (Frame f : e.frames()) {
                    if (f.kind() == FrameKind.INTERPRETED) {
                        for (String file : FILES) {
                            if (f.file().endsWith(file)) {
                                files.add(file);
                            }
                        }
                    }
                }
                if (files.isEmpty()) {
                    continue;
                }
                lua += e.count();
                assertThat(vm).as("a Lua sample carries luajit.vm: %s", e).isNotNull().isNotEqualTo("vm?");
                filesOf.computeIfAbsent(vm, k -> new TreeSet<>()).addAll(files);
                samplesOf.merge(vm, e.count(), Long::sum);
            }
            System.out.printf("multivm: %d Lua samples; per VM label: samples %s, files %s%n%s", lua, samplesOf,
                    filesOf, r.stderr().lines().filter(l -> l.contains("luajit vm") || l.contains("luajit routes")
                            || l.contains("luajit gc"))
                            .map(l -> l + "\n").reduce("", String::concat));
            assertThat(filesOf).as("one label per VM").hasSize(FILES.size());
            for (Set<String> files : filesOf.values()) {
                assertThat(files).as("a VM's samples hold only its own file's frames").hasSize(1);
            }
            assertThat(filesOf.values().stream().flatMap(Set::stream).distinct().count()).isEqualTo(FILES.size());
            for (long n : samplesOf.values()) {
                assertThat(n).as("samples per VM").isGreaterThan(100);
            }
            assertThat(r.stderr().lines().filter(l -> l.startsWith("  luajit vm pid " + host.pid())).count())
                    .as("record's summary has a health line per VM").isEqualTo(FILES.size());
            List<String> gcLines = r.stderr().lines().filter(l -> l.startsWith("  luajit gc pid " + host.pid() + " vm"))
                    .toList();
            assertThat(gcLines).as("record's summary has a GC heap line per VM").hasSize(FILES.size());
            assertThat(gcLines).allSatisfy(l -> assertThat(l).matches(
                    "  luajit gc pid \\d+ vm\\d+: heap [1-9]\\d* KB, next step at \\d+ KB, phase [a-z]+"));
        } finally {
            host.getOutputStream().write("quit\n".getBytes(StandardCharsets.UTF_8));
            host.getOutputStream().close();
            if (!host.waitFor(20, TimeUnit.SECONDS)) {
                host.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
