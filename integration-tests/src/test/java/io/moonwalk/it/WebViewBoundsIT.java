package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.perftools.profiles.ProfileProto;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB store served by an agent with a 128 MiB heap: a whole-range flame-graph request gets a
 * bounded answer (413 with the reason) instead of an OutOfMemoryError, a one-window request is still
 * answered, the agent stays healthy, and a page requested under a foreign Host name is refused.
 */
class WebViewBoundsIT {
    private static final int WINDOWS = 2048;
    private static final int NAMES_PER_WINDOW = 2600; // ~600 KiB of gzipped names per window
    private static final String SYMBOLS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";

    /** One stored window as the store writes it (pprof, gzipped), with random (incompressible) function names. */
    private static Path writeWindow(Path dir, long startMillis, Random rnd) throws Exception {
        ProfileProto.Profile.Builder p = ProfileProto.Profile.newBuilder().addStringTable("")
                .addStringTable("cpu").addStringTable("nanoseconds").addStringTable("samples").addStringTable("count")
                .addStringTable("process.pid").addStringTable("nginx");
        p.addSampleType(ProfileProto.ValueType.newBuilder().setType(3).setUnit(4));
        p.setPeriodType(ProfileProto.ValueType.newBuilder().setType(1).setUnit(2)).setPeriod(52_631_578L);
        p.setTimeNanos(startMillis * 1_000_000).setDurationNanos(5_000_000_000L);
        byte[] raw = new byte[300];
        for (int i = 0; i < NAMES_PER_WINDOW; i++) {
            rnd.nextBytes(raw);
            raw[0] = 'f';
            raw[1] = 'n';
            raw[2] = '_';
            for (int k = 3; k < raw.length; k++) {
                raw[k] = (byte) SYMBOLS.charAt(raw[k] & 63); // 6 random bits a character: gzip cannot shrink it much
            }
            int s = p.getStringTableCount();
            p.addStringTable(new String(raw, StandardCharsets.ISO_8859_1));
            p.addFunction(ProfileProto.Function.newBuilder().setId(i + 1).setName(s));
            p.addLocation(ProfileProto.Location.newBuilder().setId(i + 1)
                    .addLine(ProfileProto.Line.newBuilder().setFunctionId(i + 1)));
            p.addSample(ProfileProto.Sample.newBuilder().addLocationId(i + 1).addValue(1)
                    .addLabel(ProfileProto.Label.newBuilder().setKey(5).setNum(4242)));
        }
        Path f = dir.resolve(String.format("window-%013d-%d.pb.gz", startMillis, 5000));
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(f), 1 << 16) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        }) {
            p.build().writeTo(out);
        }
        return f;
    }

    @Test
    void aWholeRangeRequestOnAGigabyteStoreIsBoundedAndTheAgentStaysUp(@TempDir Path store) throws Exception {
        long now = System.currentTimeMillis();
        long first = now - WINDOWS * 5000L;
        Random rnd = new Random(42);
        long bytes = 0;
        // Eight distinct windows, each stored under 256 names (hard links): the agent reads 2048
        // windows of ~600 KiB each, while the test writes only 5 MB.
        Path[] distinct = new Path[8];
        for (int i = 0; i < distinct.length; i++) {
            distinct[i] = writeWindow(store, first + i * 5000L, rnd);
        }
        for (int i = distinct.length; i < WINDOWS; i++) {
            Files.createLink(store.resolve(String.format("window-%013d-%d.pb.gz", first + i * 5000L, 5000)),
                    distinct[i % distinct.length]);
        }
        try (var files = Files.list(store)) {
            bytes = files.mapToLong(f -> f.toFile().length()).sum(); // what the store accounts: per name
        }
        assertThat(bytes).as("store size").isGreaterThan(1L << 30);
        try (RunningAgent agent = RunningAgent.start("128m", 240, Map.of(), "--store", "on", "--store-dir",
                store.toString(), "--store-max-size", "2G", "--store-max-age", "24h", "--hz", "19")) {
            HttpResponse<String> whole = agent.getResponse("/flamegraph?from=0&to=" + (now + 60_000));
            assertThat(whole.statusCode()).as(whole.body()).isEqualTo(413);
            assertThat(whole.body()).contains("2048 windows").contains("shorter range");
            HttpResponse<String> one = agent.getResponse("/flamegraph?from=" + first + "&to=" + (first + 4000));
            assertThat(one.statusCode()).isEqualTo(200);
            assertThat(one.body()).contains("fn_");
            assertThat(agent.getResponse("/healthz").statusCode()).isEqualTo(200);
            assertThat(agent.process.isAlive()).isTrue();
            // a browser fetching our page under a rebound DNS name sends that name as Host
            try (Socket s = new Socket("127.0.0.1", agent.httpPort)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: attacker.example:7070\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String status = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                assertThat(status).isEqualTo("HTTP/1.1 421");
            }
            assertThat(agent.stderr()).doesNotContain("OutOfMemoryError");
        }
    }
}
