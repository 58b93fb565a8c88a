package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code moonwalk stack --core} on a core of a real nginx worker (Debian's stripped nginx with lua-nginx-module and
 * OpenResty's luajit2), taken with gdb's {@code gcore} while the worker runs a Lua handler that stays busy for a few
 * seconds: the thread's stack reads, from the leaf, spin -> busy -> the content_by_lua chunk ->
 * ngx_http_lua_run_thread -> the content phase -> ... -> main, as the handler's own source nests them (with the JIT
 * on, spin's loop is a trace: a JIT frame). The request still completes after the core was taken.
 */
class StackCoreNginxIT {
    @ParameterizedTest
    @ValueSource(strings = {"on", "off"})
    void coreOfABusyLuaHandlerShowsTheHandlerUnderRunThread(String jit) throws Exception {
        try (NginxServer nginx = NginxServer.start("stack_core.conf", "nginx-core",
                Map.of("@JIT@", "jit." + jit + "()"));
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            Path prefix = nginx.prefix;
            int port = nginx.port;
            long worker = nginx.worker;
            // the request outlives the eight replays below (each a JVM run: 100-160 s in all on a loaded 2-core host)
            CompletableFuture<HttpResponse<String>> busy = http.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/spin?seconds=12")).timeout(Duration.ofSeconds(300))
                    .build(),
                    HttpResponse.BodyHandlers.ofString());
            // the handler is running once the worker burns CPU (on a loaded machine the request can take seconds)
            double cpu0 = Moonwalk.cpuSeconds(worker);
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Moonwalk.cpuSeconds(worker) - cpu0 < 0.5) {
                assertThat(System.nanoTime()).as("the worker starts the busy handler within 30 s").isLessThan(waitUntil);
                Thread.sleep(100);
            }
            // the kernel's own view of the same worker meanwhile: a recording, to compare a replayed core against
            Path folded = prefix.resolve("live.folded");
            Process record = Moonwalk.command(List.of("record", "--pid", Long.toString(worker), "--hz", "99",
                    "--duration", "6s", "--output", folded.toString()))
                    .redirectErrorStream(true).redirectOutput(prefix.resolve("record.out").toFile()).start();
            Thread.sleep(2500); // the recording samples (the handler has ~11 s of CPU time left)
            // four cores back to back while the handler runs (each gcore stops the worker for a moment), replayed
            // only afterwards so all are taken inside the handler. gcore stops the worker where it enters the
            // kernel, often busy's os.clock (a clock_gettime system call) between spins: every core must show the
            // handler's nesting, and at least one must be inside spin (spin right below busy, only native code
            // above it)
            List<Path> cores = CoreAgreement.gcores(worker, prefix, 4, 200);
            int spinLeaves = 0;
            List<CoreAgreement.Replayed> replayedInSpin = new java.util.ArrayList<>();
            for (Path coreFile : cores) {
                CoreAgreement.Replayed r = CoreAgreement.replay(coreFile);
                System.out.printf("stack --core of nginx worker %d (JIT %s), core %d bytes:%n%s", worker, jit,
                        r.bytes(), r.text());
                List<String> lines = r.text().lines().toList();
                assertThat(lines).as("one thread with the VM's labels")
                        .anyMatch(l -> l.startsWith("thread " + worker) && l.contains("luajit.vm="));
                List<String> frames = r.frames();
                String chunk = "content_by_lua(nginx.conf:";
                int busyFrame = index(frames, "busy (" + chunk);
                int main = index(frames, "main chunk (" + chunk);
                int runThread = index(frames, "ngx_http_lua_run_thread ");
                int content = index(frames, "ngx_http_core_content_phase ");
                int cMain = index(frames, "main [");
                assertThat(List.of(busyFrame, main, runThread, content, cMain)).as("true order in %s", frames)
                        .isSorted().doesNotHaveDuplicates();
                assertThat(main).as("the chunk right above busy").isEqualTo(busyFrame + 1);
                assertThat(runThread).as("ngx_http_lua_run_thread right above the chunk").isEqualTo(main + 1);
                assertThat(frames).as("no error frame").noneMatch(f -> f.contains("unwind error"));
                int spin = busyFrame - 1;
                if (spin >= 0 && frames.get(spin).startsWith("spin (" + chunk)) {
                    spinLeaves++;
                    // above spin only native code it called (a helper of the trace or the interpreter)
                    assertThat(frames.subList(0, spin)).as("above spin").allMatch(f -> f.contains(" [0x"));
                    assertThat(frames.get(spin).endsWith("_[j]"))
                            .as("spin's frame is a trace's exactly when the JIT is on: %s", frames.get(spin))
                            .isEqualTo(jit.equals("on"));
                    replayedInSpin.add(r);
                }
            }
            assertThat(spinLeaves).as("cores inside spin, right below busy").isPositive();
            assertThat(record.waitFor(60, TimeUnit.SECONDS)).as("the recording ends").isTrue();
            assertThat(record.exitValue()).as(Files.readString(prefix.resolve("record.out"))).isZero();
            // a replayed core inside spin is a stack the kernel walker produced for a sample of the same worker (the
            // leaf's module offset included, i.e. the same PC inside a helper). A helper offset the 6 s recording
            // never sampled would fail this; it is checked only for cores inside spin, where ~400 samples land.
            CoreAgreement.assertRecorded("nginx worker, JIT " + jit, replayedInSpin, Folded.read(folded));

            HttpResponse<String> done = busy.get(300, TimeUnit.SECONDS);
            assertThat(done.statusCode()).isEqualTo(200);
            assertThat(done.body().trim()).as("the handler's result after the cores").matches("\\d+");
        }
    }

    private static int index(List<String> frames, String prefix) {
        for (int i = 0; i < frames.size(); i++) {
            if (frames.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no frame starting with '" + prefix + "' in " + frames);
    }
}
