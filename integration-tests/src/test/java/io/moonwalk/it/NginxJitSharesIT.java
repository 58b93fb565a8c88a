package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13: on the nginx + Lua workload of testdata/nginx/overhead.conf (content handler -> render -> M.work, whose
 * loop trace inlines M.mix) the per-function shares of {@code moonwalk record} against jit.p running inside the
 * same worker over the same window, with snapshot-exact trace frames (inlined calls as their own frames) and with
 * the trace-start attribution computed from the same samples (each trace sample charged to the function at
 * {@code g->jit_base}, the inlined frames dropped) — the profile before snapshot-exact frames.
 *
 * <p>jit.p counts a tick that fires while the worker runs nginx's C code (parsing, writev, epoll) at the next Lua
 * code the VM runs, the handler's main chunk; moonwalk sees those samples in C. The main chunk's shares therefore
 * differ by design and the comparison is over the functions both see only while Lua runs: M.work and M.mix, as
 * shares of their sum.
 */
class NginxJitSharesIT {
    private static final Pattern LUA = Pattern.compile("^(\\S.*?) \\((.+)\\)(_\\[[ij]\\])?$");
    /** A control location beside /work: starts and stops jit.p in the worker's VM. */
    private static final String CONTROL = """
                    location = /jitp {
                        content_by_lua_block {
                            local p = require("jit.p")
                            if ngx.var.arg_op == "start" then p.start(ngx.var.arg_mode, ngx.var.arg_file) else p.stop() end
                            ngx.say("ok")
                        }
                    }

                    location /work {""";

    @BeforeAll
    static void root() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    @Test
    void inlinedFunctionSharesAreCloserToJitPWithSnapshotExactFrames() throws Exception {
        // the worker runs as nobody: jit.p's report goes to a directory it may write
        Path out = Files.createTempDirectory(Path.of("/tmp"), "mw-jitp");
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path jp = out.resolve("jitp.txt");
        Process wrk = null;
        HttpClient http = HttpClient.newHttpClient();
        try (NginxServer nginx = NginxServer.start("overhead.conf", "nginx-jitp",
                Map.of("worker_processes 2;", "worker_processes 1;", "        location /work {", CONTROL))) {
            String base = "http://127.0.0.1:" + nginx.port;
            wrk = new ProcessBuilder("wrk", "-t1", "-c4", "-d40s", base + "/work").redirectErrorStream(true)
                    .redirectOutput(nginx.prefix.resolve("wrk.out").toFile()).start();
            Thread.sleep(1000);
            Path folded = Files.createTempFile(Moonwalk.WORK, "nginx-jitp", ".folded");
            Path err = Files.createTempFile(Moonwalk.WORK, "nginx-jitp", ".err");
            Process rec = Moonwalk.command(List.of("record", "--pid", String.valueOf(nginx.worker), "--hz", "997",
                    "--duration", "8s", "--output", folded.toString())).redirectError(err.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            String summary;
            try {
                for (int i = 0; i < 1200 && !Files.readString(err).contains("recording") && rec.isAlive(); i++) {
                    Thread.sleep(10);
                }
                assertThat(Files.readString(err)).as("record started").contains("recording");
                assertThat(get(http, base + "/jitp?op=start&mode=fi1&file=" + jp)).isEqualTo("ok");
                assertThat(rec.waitFor(120, TimeUnit.SECONDS)).as("record ends").isTrue();
                summary = Files.readString(err);
                assertThat(rec.exitValue()).as(summary).isZero();
            } finally {
                rec.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            // stopped only now: jit.p's stop flushes every trace, and record names trace positions from the live
            // traces when it writes its profile (jit.p's window is longer by that time; the load is steady)
            assertThat(get(http, base + "/jitp?op=stop")).isEqualTo("ok");
            Folded p = Folded.read(folded);
            Map<String, Double> exact = shares(p, false);
            Map<String, Double> traceStart = shares(p, true);
            Map<String, Double> theirs = LuajitWalkIT.jitpShares(jp);
            System.out.print(summary);
            System.out.printf("nginx overhead.conf /work: %d worker samples; shares of samples with a Lua frame:%n"
                    + "  moonwalk snapshot-exact %s%n  moonwalk trace-start    %s%n  jit.p (same worker)     %s%n",
                    p.total(), exact, traceStart, theirs);
            assertThat(theirs.keySet()).as("jit.p's functions").contains("work", "mix");
            double jpMix = 100.0 * theirs.get("mix") / (theirs.get("mix") + theirs.get("work"));
            double exMix = ofPair(exact);
            double tsMix = ofPair(traceStart);
            System.out.printf("  mix as %% of work+mix: jit.p %.1f, snapshot-exact %.1f (%+.1f), trace-start %.1f"
                    + " (%+.1f)%n", jpMix, exMix, exMix - jpMix, tsMix, tsMix - jpMix);
            long inTraces = p.countMatching(l -> l.frames().stream().anyMatch(f -> f.endsWith("_[j]")));
            long inlined = p.countMatching(l -> l.joined().matches(".*;M\\.work \\([^;]*\\)_\\[j\\];"
                    + "M\\.mix \\([^;]*\\)_\\[i\\](;.*)?$"));
            System.out.printf("  %d samples in traces, %d of them M.work_[j];M.mix_[i]%n", inTraces, inlined);
            assertThat(exact.getOrDefault("work", 0.0) + exact.getOrDefault("mix", 0.0))
                    .as("work + mix share of Lua samples, %%").isGreaterThan(30.0);
            assertThat(inlined).as("samples in mix inlined into work's trace").isPositive();
            assertThat(Math.abs(exMix - jpMix)).as("snapshot-exact is as close to jit.p as trace-start or closer")
                    .isLessThanOrEqualTo(Math.abs(tsMix - jpMix));
            assertThat(exMix).as("mix's part of work+mix vs jit.p's").isCloseTo(jpMix,
                    org.assertj.core.data.Offset.offset(5.0));
        } finally {
            if (wrk != null) {
                wrk.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static String get(HttpClient http, String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(url).isEqualTo(200);
        return r.body().strip();
    }

    private static double ofPair(Map<String, Double> s) {
        double mix = s.getOrDefault("mix", 0.0);
        double work = s.getOrDefault("work", 0.0);
        return mix + work == 0 ? 0 : 100.0 * mix / (mix + work);
    }

    /**
     * Percent per innermost Lua function of the samples that have one, in jit.p's naming (field name without its
     * table, {@code chunk:0} for a main chunk); {@code traceStart}: inlined frames dropped, so a trace sample counts
     * for the function the trace's frame names.
     */
    static Map<String, Double> shares(Folded p, boolean traceStart) {
        Map<String, Long> counts = new TreeMap<>();
        long total = 0;
        for (Folded.Line l : p.lines()) {
            String leaf = null;
            for (int i = l.frames().size() - 1; i >= 0 && leaf == null; i--) {
                String f = l.frames().get(i);
                Matcher m = LUA.matcher(f);
                if (!m.matches() || f.endsWith("_[k]") || (traceStart && "_[i]".equals(m.group(3)))) {
                    continue;
                }
                leaf = jitpName(m.group(1), m.group(2));
            }
            if (leaf != null) {
                counts.merge(leaf, l.count(), Long::sum);
                total += l.count();
            }
        }
        Map<String, Double> shares = new TreeMap<>();
        for (var e : counts.entrySet()) {
            shares.put(e.getKey(), 100.0 * e.getValue() / total);
        }
        return shares;
    }

    private static String jitpName(String name, String at) {
        if (name.startsWith("function <") && name.endsWith(">")) {
            String def = name.substring("function <".length(), name.length() - 1);
            return def.substring(def.lastIndexOf('/') + 1);
        }
        if (name.equals("main chunk")) {
            int colon = at.lastIndexOf(':');
            return (colon > 0 ? at.substring(0, colon) : at) + ":0";
        }
        int dot = Math.max(name.lastIndexOf('.'), name.lastIndexOf(':'));
        return dot >= 0 ? name.substring(dot + 1) : name;
    }
}
