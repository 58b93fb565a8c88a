package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.abort.AbortSite;
import io.moonwalk.luajit.abort.PenaltyCache;
import io.moonwalk.luajit.abort.PenaltyReader;
import io.moonwalk.luajit.abort.SiteNamer;
import io.moonwalk.luajit.abort.TraceErrors;
import io.moonwalk.luajit.abort.VmAborts;
import io.moonwalk.process.ProcessMemory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Trace aborts read from a VM's penalty cache against what {@code luajit -jv} (jit.v) prints for the same run of
 * {@code testdata/lua/trace_aborts.lua} (an NYI fast-function variant, an NYI bytecode, inner loops that are left
 * until blacklisted, an unroll limit): per start site ({@code chunk:line}) the number of root-trace aborts and the
 * last abort's reason must be what jit.v printed; and the reason table must be each build's own
 * ({@code jit.vmdef.traceerr}).
 */
@Tag("tools")
class TraceAbortsLiveTest {
    private static final Pattern ROOT_ABORT = Pattern.compile("^\\[TRACE --- (\\S+) -- (.*)]$");

    @ParameterizedTest
    @EnumSource(value = JitTargets.class, names = {"INSTALLED_OPENRESTY_GC64", "OPENRESTY_GC64_BUILD",
            "OPENRESTY_NOGC64_BUILD", "UPSTREAM_GC64_BUILD", "UPSTREAM_NOGC64_BUILD"})
    void abortsBySiteAndReasonMatchJitV(JitTargets target) throws Exception {
        Path stderr = Files.createTempFile("moonwalk-jv", ".txt");
        ProcessBuilder pb = new ProcessBuilder(target.exe().toString(), "-jv",
                JitTargets.lua("trace_aborts.lua").toString()).redirectError(stderr.toFile());
        luaPath(target, pb);
        Process p = pb.start();
        try (ProcessMemory mem = new ProcessMemory()) {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            long thread = 0;
            for (String l; (l = out.readLine()) != null && !l.equals("READY"); ) {
                if (l.startsWith("THREAD ")) {
                    thread = LuaRun.hex(l.substring(7));
                }
            }
            assertThat(thread).as("the workload printed its THREAD and READY").isNotZero();
            int pid = (int) p.pid();
            long g = new JitStateReader(mem, target.layout()).globalOfThread(pid, thread);
            PenaltyCache cache = new PenaltyReader(mem, target.layout()).read(pid, g);
            VmAborts aborts = new VmAborts();
            aborts.observe(cache, new SiteNamer(mem, target.layout()));

            // jit.v's root-trace aborts (side-trace aborts "(parent/exit) site" are not in the penalty cache)
            Map<String, Integer> truthCount = new TreeMap<>();
            Map<String, String> truthLast = new HashMap<>();
            Map<String, String> truthBeforeLast = new HashMap<>();
            java.util.Set<String> truthReasons = new java.util.TreeSet<>();
            for (String line : Files.readAllLines(stderr)) {
                Matcher m = ROOT_ABORT.matcher(line);
                if (m.matches() && !m.group(1).startsWith("(")) {
                    truthCount.merge(m.group(1), 1, Integer::sum);
                    String before = truthLast.put(m.group(1), label(m.group(2).replaceFirst(" at \\S+$", "")));
                    truthReasons.add(truthLast.get(m.group(1)));
                    if (before != null) {
                        truthBeforeLast.put(m.group(1), before);
                    }
                }
            }
            Map<String, Integer> ourCount = new TreeMap<>();
            Map<String, String> ourReason = new HashMap<>();
            Map<String, Boolean> blacklisted = new HashMap<>();
            for (AbortSite s : aborts.top(VmAborts.MAX_SITES)) {
                String pos = s.site().position(); // chunk:line, as jit.v prints it
                String site = pos.substring(pos.lastIndexOf('/') + 1);
                assertThat(s.site().display()).as("named like a Lua frame whose caller is unknown")
                        .matches("(function <\\S+:\\d+>|main chunk) \\(\\Q" + pos + "\\E\\)");
                ourCount.merge(site, (int) s.count(), Integer::sum);
                ourReason.put(site, s.reason());
                blacklisted.merge(site, s.blacklisted(), Boolean::logicalOr);
            }
            System.out.printf("%s: jit.v root aborts %d at %d sites, moonwalk %d at %d sites; by reason %s%n", target,
                    truthCount.values().stream().mapToInt(Integer::intValue).sum(), truthCount.size(), aborts.total(),
                    ourCount.size(), aborts.byReason());
            for (String site : truthCount.keySet()) {
                System.out.printf("  %-22s jit.v %2d x %-40s moonwalk %2s x %s%s%n", site, truthCount.get(site),
                        truthLast.get(site), ourCount.get(site), ourReason.get(site),
                        Boolean.TRUE.equals(blacklisted.get(site)) ? " (blacklisted)" : "");
            }
            assertThat(truthReasons).as("the workload's abort reasons (jit.v)").contains(
                    "NYI: unsupported variant of FastFunc", "NYI: bytecode", "leaving loop in root trace",
                    "loop unroll limit reached");
            assertThat(ourCount).as("%s: root-trace aborts per start site", target).isEqualTo(truthCount);
            assertThat(blacklisted.values()).as("some sites were blacklisted (11 aborts each)").contains(true);
            for (String site : truthCount.keySet()) {
                // the abort that blacklists a site does not record its reason: the slot keeps the one before
                String expected = blacklisted.get(site) ? truthBeforeLast.get(site) : truthLast.get(site);
                assertThat(ourReason.get(site)).as("%s: last recorded abort reason at %s", target, site)
                        .isEqualTo(expected);
            }
        } finally {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(stderr);
        }
    }

    @ParameterizedTest
    @EnumSource(value = JitTargets.class, names = {"INSTALLED_OPENRESTY_GC64", "OPENRESTY_GC64_BUILD",
            "OPENRESTY_NOGC64_BUILD", "UPSTREAM_GC64_BUILD", "UPSTREAM_NOGC64_BUILD"})
    void reasonTableIsTheBuildsOwn(JitTargets target) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(target.exe().toString(), "-e",
                "local t = require('jit.vmdef').traceerr for i = 0, #t do print(t[i]) end");
        luaPath(target, pb);
        Process p = pb.redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines().toList());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s", lines).isZero();
        List<String> ours = new ArrayList<>();
        for (int i = 0; i < TraceErrors.count(); i++) {
            ours.add(TraceErrors.template(i));
        }
        assertThat(ours).isEqualTo(lines);
    }

    /** The fixture builds find jit/v.lua and jit/vmdef.lua next to their executable. */
    private static void luaPath(JitTargets target, ProcessBuilder pb) {
        if (target != JitTargets.INSTALLED_OPENRESTY_GC64) {
            pb.environment().put("LUA_PATH", target.exe().getParent() + "/?.lua;;");
        }
    }

    /** jit.v's message turned into our label: the template it was formatted from, without its argument. */
    private static String label(String message) {
        for (int i = 0; i < TraceErrors.count(); i++) {
            String t = TraceErrors.template(i);
            String re = Pattern.quote(t).replace("%s", "\\E\\S+\\Q").replace("%d", "\\E\\d+\\Q");
            if (message.matches(re)) {
                return TraceErrors.label(i);
            }
        }
        return "unmatched: " + message;
    }
}
