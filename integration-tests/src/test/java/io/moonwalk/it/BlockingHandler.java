package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The event-loop-blocking nginx workload of the off-CPU tests (testdata/nginx/offcpu.conf): every 10th request's Lua
 * handler runs {@code os.execute("sleep 0.02")}, and the workload counts its sleeps and times each os.execute call
 * itself (FFI clock_gettime). That printout is the ground truth for the blocked time; the stack shapes below are
 * what a profile must show for it.
 */
final class BlockingHandler {
    private BlockingHandler() {
    }

    /** Starts nginx with offcpu.conf in a temporary prefix named {@code prefixName}. */
    static NginxServer start(String prefixName) throws Exception {
        return NginxServer.start("offcpu.conf", prefixName, Map.of());
    }

    /**
     * {@code wrk -t1 -c4 -dSECONDS} on {@code /work} on loopback, waited for (bounded: 30 s), its output in
     * {@code out}. Every sleep of the load happens inside this call.
     */
    static void load(NginxServer nginx, int seconds, Path out) throws Exception {
        Process wrk = new ProcessBuilder("wrk", "-t1", "-c4", "-d" + seconds + "s",
                "http://127.0.0.1:" + nginx.port + "/work").redirectErrorStream(true).redirectOutput(out.toFile())
                .start();
        try {
            assertThat(wrk.waitFor(seconds + 25L, TimeUnit.SECONDS)).as("wrk ends").isTrue();
        } finally {
            if (wrk.isAlive()) {
                wrk.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /** What the workload counted: its sleeps, and the time its own clock measured across its os.execute calls. */
    record Stats(long requests, long sleeps, double executeSeconds) {
        static Stats of(NginxServer nginx) throws Exception {
            String body = nginx.get("/stats");
            String[] f = body.trim().split(" ");
            if (f.length != 6 || !f[0].equals("requests") || !f[2].equals("sleeps") || !f[4].equals("sleep_ns")) {
                throw new AssertionError("unexpected /stats answer: " + body);
            }
            return new Stats(Long.parseLong(f[1]), Long.parseLong(f[3]), Long.parseLong(f[5]) / 1e9);
        }
    }

    /** handler (a Lua frame) -> blocking -> os.execute -> ... -> wait4, the kernel part in do_wait. */
    static boolean underWait4(List<String> frames) {
        int handler = indexStartingWith(frames, "handler ");
        int blocking = indexStartingWith(frames, "blocking ");
        int execute = frames.indexOf("os.execute");
        int wait4 = frames.indexOf("wait4");
        return handler >= 0 && handler < blocking && blocking < execute && execute < wait4
                && frames.stream().anyMatch(s -> s.startsWith("do_wait"));
    }

    /**
     * handler -> blocking -> os.execute -> ... -> posix_spawn -> clone3: os.execute also blocks until the child execs
     * (posix_spawn, CLONE_VFORK); the kernel part below it varies by kernel.
     */
    static boolean underSpawn(List<String> frames) {
        int handler = indexStartingWith(frames, "handler ");
        int blocking = indexStartingWith(frames, "blocking ");
        int execute = frames.indexOf("os.execute");
        int spawn = frames.indexOf("posix_spawn");
        int clone = frames.indexOf("clone3");
        return handler >= 0 && handler < blocking && blocking < execute && execute < spawn && spawn < clone;
    }

    private static int indexStartingWith(List<String> frames, String prefix) {
        for (int i = 0; i < frames.size(); i++) {
            if (frames.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
