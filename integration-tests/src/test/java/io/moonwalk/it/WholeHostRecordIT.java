package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.perftools.profiles.ProfileProto;
import io.moonwalk.agent.output.HeadlessChromium;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** A whole-host {@code record} writes three valid outputs that tell the same story. */
class WholeHostRecordIT {

    @Test
    void tenSecondsOfTheWholeHostInAllThreeFormats() throws Exception {
        assertThat(Moonwalk.isRoot()).as("run the integration tests as root").isTrue();
        Path exe = Moonwalk.compile("chain", "-O2", "-fno-omit-frame-pointer", "-fno-builtin-gamma");
        Process busy = new ProcessBuilder(exe.toString(), "20").start();
        Path dir = Files.createTempDirectory(Moonwalk.WORK, "wholehost");
        Path html = dir.resolve("profile.html");
        Path folded = dir.resolve("profile.folded");
        Path pprof = dir.resolve("profile.pb.gz");
        try {
            Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(90), "record", "--duration", "10s",
                    "--output", html.toString(), "--output", folded.toString(), "--output", pprof.toString());
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertThat(r.stderr()).contains("wrote " + html).contains("wrote " + folded).contains("wrote " + pprof);
        } finally {
            busy.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        assertThat(dir).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("."));

        // folded: every line parses; more than one process; the busy fixture is in it
        Folded f = Folded.read(folded);
        Set<String> processes = new HashSet<>();
        f.lines().forEach(l -> processes.add(l.frames().get(0)));
        System.out.printf("whole host: %d samples, %d stacks, %d processes%n", f.total(), f.lines().size(), processes.size());
        assertThat(processes.size()).isGreaterThan(1);
        long chain = f.countMatching(l -> l.joined().contains("main;alpha;beta;gamma"));
        long chainAll = f.ofProcess(exe.getFileName().toString().substring(0, Math.min(15,
                exe.getFileName().toString().length()))).total();
        assertThat(chain).isGreaterThan(50);
        assertThat(100.0 * chain / chainAll).isGreaterThanOrEqualTo(95.0);

        // pprof: decodes against the profile.proto schema with protoc itself, and with the generated classes
        byte[] raw;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(pprof))) {
            raw = in.readAllBytes();
        }
        Path rawFile = dir.resolve("profile.pb");
        Files.write(rawFile, raw);
        Path protoDir = Moonwalk.ROOT.resolve("agent/src/main/proto");
        String text = Moonwalk.tool("sh", "-c", "protoc --proto_path=" + protoDir
                + " --decode=perftools.profiles.Profile profile.proto < " + rawFile);
        assertThat(text).contains("string_table: \"\"").contains("sample {").contains("\"gamma\"");
        ProfileProto.Profile p = ProfileProto.Profile.parseFrom(raw);
        assertThat(p.getStringTable(0)).isEmpty();
        long pprofSamples = p.getSampleList().stream().mapToLong(s -> s.getValue(0)).sum();
        assertThat(pprofSamples).as("pprof and folded count the same samples").isEqualTo(f.total());

        // html: opens in headless Chromium without script errors and draws the fixture's frames
        Path png = dir.resolve("profile.png");
        String dom = HeadlessChromium.dumpDom(html, "", png, 5000);
        assertThat(dom).contains("data-render=\"ok\"").doesNotContain("data-render=\"error\"");
        assertThat(dom).containsPattern("<li>gamma — \\d+ samples</li>").containsPattern("<li>main — \\d+ samples</li>");
        BufferedImage img = ImageIO.read(png.toFile());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                colours.add(img.getRGB(x, y));
            }
        }
        System.out.printf("whole host html: %d bytes, screenshot %s with %d colours%n", Files.size(html), png, colours.size());
        assertThat(colours.size()).as("the screenshot is not blank").isGreaterThan(20);
    }
}
