package io.moonwalk.agent.store;

import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes the store a busy host leaves after 24 h at the defaults (5 s windows, 19 Hz on 2 CPUs, both
 * saturated: 190 samples a window over 32 nginx workers and 28 other processes) without waiting 24 h:
 * {@value #DISTINCT} distinct windows are written by the real {@link ProfileStore}, the other 17,264
 * are hard links to them under their own names with their index lines, as the store would have
 * appended them.
 */
public final class StoreHarness {
    static final int DISTINCT = 16;
    public static final long WINDOW_MS = 5000;
    public static final int WINDOWS = (int) (Duration.ofHours(24).toMillis() / WINDOW_MS);

    public record Result(int windows, long bytes, long indexBytes) {
    }

    private StoreHarness() {
    }

    static Profile busyWindow(long startMillis, Random rnd) {
        CodeMapping nginx = new CodeMapping("/usr/sbin/nginx", 0x5555_5555_6000L, 0x5555_5565_6000L, 0x2000, "");
        List<Profile.Entry> entries = new ArrayList<>();
        for (int s = 0; s < 190; s++) {
            int proc = rnd.nextInt(60);
            ProcessIdentity p = proc < 32 ? new ProcessIdentity(1000 + proc, "nginx", "/usr/sbin/nginx", "")
                    : new ProcessIdentity(2000 + proc, "svc" + proc, "/usr/bin/svc" + proc, "");
            List<Frame> frames = new ArrayList<>();
            frames.add(Frame.nativeCode("main", nginx.start() + 0x100, nginx));
            frames.add(Frame.nativeCode("ngx_worker_process_cycle", nginx.start() + 0x200, nginx));
            int depth = 3 + rnd.nextInt(20);
            for (int d = 0; d < depth; d++) {
                frames.add(d % 3 == 2 ? Frame.nativeCode("lj_cf_" + rnd.nextInt(30), nginx.start() + 0x300 + d, nginx)
                        : Frame.interpreted("luajit", "fn" + rnd.nextInt(200), "/srv/app" + rnd.nextInt(20) + ".lua",
                        1 + rnd.nextInt(500), 1, rnd.nextBoolean()));
            }
            String[] states = {"interpreted", "compiled", "c", "gc"};
            entries.add(new Profile.Entry(p, p.command(), frames, Map.of("luajit.vm_state", states[rnd.nextInt(4)]), 1));
        }
        return new Profile(startMillis * 1_000_000, WINDOW_MS * 1_000_000, 52_631_578L, entries);
    }

    /** Fills {@code dir} with 24 h of windows ending at {@code nowMillis}. */
    public static Result busyHost24h(Path dir, long nowMillis) throws Exception {
        long first = nowMillis - WINDOWS * WINDOW_MS;
        ProfileStore writer = new ProfileStore(dir, 4L << 30, Duration.ofHours(25), Clock.systemUTC());
        Random rnd = new Random(7);
        List<WindowSummary> distinct = new ArrayList<>();
        for (int i = 0; i < DISTINCT; i++) {
            List<WindowSummary.VmHealth> health = new ArrayList<>();
            for (int vm = 0; vm < WindowSummary.MAX_VMS; vm++) { // as many VMs as the store keeps
                health.add(new WindowSummary.VmHealth((1000 + vm) + "/vm1", 100 + rnd.nextInt(900),
                        65536f * (1 + rnd.nextInt(8)), 524288, i / 4));
            }
            distinct.add(writer.write(busyWindow(first + i * WINDOW_MS, rnd), health));
        }
        long bytes = 0;
        for (WindowSummary w : distinct) {
            bytes += w.bytes();
        }
        Path index = dir.resolve(StoreIndex.FILE);
        try (BufferedWriter out = Files.newBufferedWriter(index, StandardCharsets.UTF_8, StandardOpenOption.APPEND)) {
            for (int i = DISTINCT; i < WINDOWS; i++) {
                WindowSummary src = distinct.get(i % DISTINCT);
                long start = first + i * WINDOW_MS;
                for (String suffix : List.of(ProfileStore.PPROF, ProfileStore.FOLDED)) {
                    Files.createLink(writer.file(start, WINDOW_MS, suffix),
                            writer.file(src.startMillis(), src.durationMillis(), suffix));
                }
                out.write(StoreIndex.format(src.at(start, WINDOW_MS, src.bytes())));
                out.write('\n');
                bytes += src.bytes();
            }
        }
        return new Result(WINDOWS, bytes, Files.size(index));
    }
}
