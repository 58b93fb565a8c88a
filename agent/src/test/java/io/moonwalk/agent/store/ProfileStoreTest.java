package io.moonwalk.agent.store;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.output.FoldedWriter;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.frame.FrameKind;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("tools")
class ProfileStoreTest {
    static final ProcessIdentity NGINX = new ProcessIdentity(101, "nginx", "/usr/sbin/nginx", "");
    static final ProcessIdentity LUAJIT = new ProcessIdentity(202, "luajit", "/usr/bin/luajit", "");

    /** A clock the test moves. */
    static final class ManualClock extends Clock {
        long millis;

        ManualClock(long millis) {
            this.millis = millis;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    static final CodeMapping LUAJIT_TEXT = new CodeMapping("/usr/bin/luajit", 0x5600_0000_4000L, 0x5600_0008_4000L,
            0x4000, "0123abcd");
    static final CodeMapping NGINX_TEXT = new CodeMapping("/usr/sbin/nginx", 0x5555_5555_6000L, 0x5555_5565_6000L,
            0x2000, "");
    static final CodeMapping KERNEL = new CodeMapping("[kernel.kallsyms]", 0xffffffff81000000L, 0xffffffff83000000L,
            0, "7dd4ff0789e05e14285320129149da2555ca0bfc");

    static Profile window(long startMillis, int stacks) {
        List<Profile.Entry> entries = new ArrayList<>();
        List<Frame> lua = List.of(Frame.nativeCode("main", 0x5600_0000_5010L, LUAJIT_TEXT),
                Frame.interpreted("luajit", "fib", "/srv/fib.lua", 3, 2, false),
                Frame.interpreted("luajit", "loop", "content_by_lua(nginx.conf:12)", 7, 5, true),
                Frame.kernel("asm_sysvec_apic_timer_interrupt", 0xffffffff81e00a1aL, KERNEL),
                Frame.kernel("", 0xffffffff81e00b00L, KERNEL),
                Frame.nativeCode("", 0x5600_0000_6001L, LUAJIT_TEXT),
                Frame.error("[unwind error: depth limit]"));
        entries.add(new Profile.Entry(LUAJIT, "luajit", lua, Map.of("luajit.vm_state", "interpreted"), 7));
        entries.add(new Profile.Entry(LUAJIT, "luajit", lua.subList(0, 2), Map.of("luajit.vm_state", "compiled"), 3));
        for (int i = 0; i < stacks; i++) {
            entries.add(new Profile.Entry(NGINX, "nginx", List.of(Frame.nativeCode("main", 0x5555_5555_7123L, NGINX_TEXT),
                    Frame.nativeCode("handler_" + i + "_" + startMillis, 0x5555_5555_8000L + i, NGINX_TEXT)),
                    Map.of(), 1));
        }
        return new Profile(startMillis * 1_000_000, 1_000_000_000L, 52_631_578L, entries);
    }

    @Test
    void readsBackWhatItWroteExactly(@TempDir Path dir) throws Exception {
        ManualClock clock = new ManualClock(1_000_000L);
        ProfileStore store = new ProfileStore(dir, 1 << 30, Duration.ofHours(1), clock);
        Profile w = window(1_000_000L, 3);
        store.write(w);
        Profile back = store.merged(0, Long.MAX_VALUE, e -> true);
        // same folded text (frames, names, kinds via their suffixes) and same labels
        assertThat(FoldedWriter.collapse(back)).isEqualTo(FoldedWriter.collapse(w));
        assertThat(back.entries()).extracting(Profile.Entry::labels).contains(Map.of("luajit.vm_state", "compiled"));
        assertThat(back.entries().stream().flatMap(e -> e.frames().stream()).map(Frame::kind).distinct())
                .containsExactlyInAnyOrder(FrameKind.values());
        // every field comes back but the runtime, which pprof has no place for
        assertThat(back.entries().stream().flatMap(e -> e.frames().stream()).distinct())
                .containsExactlyInAnyOrderElementsOf(w.entries().stream().flatMap(e -> e.frames().stream())
                        .map(f -> f.kind() == FrameKind.INTERPRETED ? Frame.interpreted("", f.function(), f.file(),
                                f.line(), f.startLine(), f.jit()) : f).distinct().toList());
        assertThat(back.totalSamples()).isEqualTo(w.totalSamples());
        // a filter by pid and VM state
        Profile compiled = store.merged(0, Long.MAX_VALUE,
                e -> e.process().pid() == 202 && "compiled".equals(e.labels().get(WindowSummary.VM_STATE)));
        assertThat(compiled.totalSamples()).isEqualTo(3);
        // the folded file next to the pprof is the same text
        try (Stream<Path> files = Files.list(dir)) {
            Path folded = files.filter(p -> p.toString().endsWith(".folded")).findFirst().orElseThrow();
            assertThat(Files.readString(folded)).contains("luajit;main;fib (/srv/fib.lua:3) 3");
        }
    }

    @Test
    void mergesWindowsInARangeAndReindexesOnRestart(@TempDir Path dir) throws Exception {
        ManualClock clock = new ManualClock(10_000_000L);
        ProfileStore store = new ProfileStore(dir, 1 << 30, Duration.ofHours(1), clock);
        for (int i = 0; i < 5; i++) {
            store.write(window(10_000_000L + i * 1000L, 1));
        }
        assertThat(store.merged(10_001_000L, 10_003_000L, e -> true).totalSamples()).isEqualTo(2 * 11);
        ProfileStore reopened = new ProfileStore(dir, 1 << 30, Duration.ofHours(1), clock);
        assertThat(reopened.windowCount()).isEqualTo(5);
        assertThat(reopened.totalBytes()).isEqualTo(store.totalBytes());
        assertThat(reopened.windows().getFirst().processes()).containsKeys(101, 202);
        assertThat(reopened.windows().getFirst().vmStates()).containsExactly(Map.entry("compiled", 3L), Map.entry("interpreted", 7L));
    }

    @Test
    void rotatesOldestFirstWithinSizeAndAge(@TempDir Path dir) throws Exception {
        ManualClock clock = new ManualClock(50_000_000L);
        long bound = 40_000;
        ProfileStore store = new ProfileStore(dir, bound, Duration.ofSeconds(30), clock);
        Files.writeString(dir.resolve("notes.txt"), "not ours"); // never touched
        for (int i = 0; i < 60; i++) {
            clock.millis = 50_000_000L + i * 1000L;
            store.write(window(clock.millis - 1000, 40));
            assertThat(dirBytes(dir)).isLessThanOrEqualTo(bound + "not ours".length());
        }
        List<WindowSummary> kept = store.windows();
        assertThat(store.evictedWindows()).isEqualTo(60 - kept.size());
        assertThat(kept.getLast().startMillis()).isEqualTo(50_000_000L + 58_000L);
        for (int i = 1; i < kept.size(); i++) {
            assertThat(kept.get(i).startMillis()).isEqualTo(kept.get(i - 1).startMillis() + 1000);
        }
        System.out.printf("store: %d windows kept, %d bytes (bound %d), %d evicted%n", kept.size(),
                store.totalBytes(), bound, store.evictedWindows());
        // age: a generous size bound, then time passes
        ProfileStore aged = new ProfileStore(dir, 1 << 30, Duration.ofSeconds(30), clock);
        clock.millis += 25_000;
        aged.expire();
        assertThat(aged.windows()).allMatch(w -> w.endMillis() >= clock.millis - 30_000);
        assertThat(aged.windowCount()).isLessThan(kept.size());
        clock.millis += 60_000;
        aged.expire();
        assertThat(aged.windowCount()).isZero();
        assertThat(Files.readString(dir.resolve("notes.txt"))).isEqualTo("not ours");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("notes.txt", StoreIndex.FILE);
        }
    }

    @Test
    void corruptWindowFilesAreSkippedNotFatal(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("window-0000001000000-1000.pb.gz"), new byte[] {0x1f, (byte) 0x8b, 1, 2, 3});
        ProfileStore store = new ProfileStore(dir, 1 << 30, Duration.ofHours(1), new ManualClock(1_000_500L));
        assertThat(store.windowCount()).isZero();
    }

    private static long dirBytes(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
