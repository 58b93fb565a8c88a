package io.moonwalk.agent.output;

import org.junit.jupiter.api.Tag;
import io.moonwalk.agent.profile.Profile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Renders flame graphs in headless Chromium. One browser run for the sample page (DOM +
 * screenshot) is shared by most tests.
 */
@Tag("tools")
class FlameGraphHtmlWriterTest {
    private static final Path OUT = Path.of("target", "flamegraph-test");
    private static String dom;
    private static BufferedImage screenshot;

    @BeforeAll
    static void renderSamplePage() throws Exception {
        Files.createDirectories(OUT);
        Path page = OUT.resolve("sample.html");
        OutputFormat.forPath(page).newWriter().writeFile(SampleProfiles.withHostileName(), page);
        Path png = Path.of("target", "flamegraph-screenshot.png");
        dom = HeadlessChromium.dumpDom(page, "", png, 3000);
        screenshot = ImageIO.read(png.toFile());
    }

    private static String attribute(String html, String name) {
        Matcher m = Pattern.compile("<html[^>]*\\s" + name + "=\"([^\"]*)\"").matcher(html);
        return m.find() ? m.group(1) : null;
    }

    private static List<String> drawnFrameTexts(String html) {
        Matcher list = Pattern.compile("<ol id=\"frame-text\"[^>]*>(.*?)</ol>", Pattern.DOTALL).matcher(html);
        assertThat(list.find()).as("frame text list in DOM").isTrue();
        List<String> items = new ArrayList<>();
        Matcher li = Pattern.compile("<li>(.*?)</li>", Pattern.DOTALL).matcher(list.group(1));
        while (li.find()) {
            items.add(li.group(1));
        }
        return items;
    }

    @Test
    void pageRendersWithoutErrors() {
        assertThat(dom).doesNotContain("id=\"errors\"");
        assertThat(attribute(dom, "data-render")).isEqualTo("ok");
        assertThat(Integer.parseInt(attribute(dom, "data-drawn"))).as("every node of the tree").isEqualTo(14);
        assertThat(dom).contains("Total samples: 112");
        assertThat(dom).contains("sampling: 99 Hz");
        assertThat(dom).contains("duration: 10.0 s");
        assertThat(dom).contains("processes: 2");
    }

    @Test
    void frameNamesAreDrawnWithKindSuffixesAndProcessNodes() {
        List<String> texts = drawnFrameTexts(dom);
        assertThat(texts).contains(
                "all \u2014 112 samples",
                "nginx (pid 4242) \u2014 65 samples",
                "luajit (pid 77) \u2014 47 samples",
                "ngx_http_handler \u2014 45 samples",
                "handler (/etc/nginx/app.lua:12) \u2014 45 samples",
                "fib (/etc/nginx/app.lua:3)_[j] \u2014 45 samples",
                "schedule_[k] \u2014 20 samples",
                "[unknown] \u2014 7 samples");
        // Breadcrumb and label filter options built from the labels present.
        assertThat(dom).contains("<button type=\"button\">all</button>");
        assertThat(dom).contains(">vmstate = trace</option>").contains(">thread = worker-2</option>");
    }

    @Test
    void hostileFrameNamesRenderAsText() {
        assertThat(drawnFrameTexts(dom))
                .contains("&lt;/script&gt;&lt;b&gt;\"bold\"&lt;/b&gt;'x&amp;y \u2014 40 samples");
        assertThat(dom).doesNotContain("<b>").doesNotContain("<img");
        assertThat(dom).contains(">vmstate = &lt;/script&gt;</option>");
    }

    @Test
    void injectedDataCannotCloseTheScriptElement() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new FlameGraphHtmlWriter().write(SampleProfiles.withHostileName(), out);
        String html = out.toString(StandardCharsets.UTF_8);
        // Exactly the template's own script end tags: the head script, the profile data, the (null) view data
        // and the main script.
        assertThat(html.split("</script", -1)).hasSize(5);
        assertThat(html.toLowerCase()).doesNotContain("<b>").doesNotContain("<!--<").doesNotContain("<img");
        assertThat(html).doesNotContain("http://").doesNotContain("https://").doesNotContain("src=\"");
    }

    @Test
    void screenshotShowsEveryColourFamily() throws IOException {
        int[] r = Pattern.compile(",").splitAsStream(attribute(dom, "data-canvas-rect"))
                .mapToInt(Integer::parseInt).toArray();
        // the canvas takes the width beside the top-functions table (430 px)
        assertThat(r[2]).isGreaterThan(1200 - 430 - 60);
        assertThat(r[3]).isEqualTo(6 * 18);
        Map<Family, Integer> pixels = new EnumMap<>(Family.class);
        for (int y = r[1]; y < Math.min(r[1] + r[3], screenshot.getHeight()); y++) {
            for (int x = r[0]; x < Math.min(r[0] + r[2], screenshot.getWidth()); x++) {
                Family f = Family.of(screenshot.getRGB(x, y));
                if (f != null) {
                    pixels.merge(f, 1, Integer::sum);
                }
            }
        }
        for (Family f : Family.values()) {
            assertThat(pixels.getOrDefault(f, 0)).as("%s pixels in %s", f, pixels).isGreaterThan(300);
        }
    }

    @Test
    void urlFragmentAppliesRegexSearchAndLabelFilter() throws Exception {
        Path page = OUT.resolve("sample.html");
        String filtered = HeadlessChromium.dumpDom(page, "#search=" + percent("sch.dule_\\[k\\]")
                + "&filter=" + percent("thread=nginx"), null, 3000);
        assertThat(attribute(filtered, "data-render")).isEqualTo("ok");
        assertThat(filtered).contains("shown: 60 (53.57%)");
        assertThat(filtered).contains("Matched: 20 of 60 samples (33.33%)");
        assertThat(drawnFrameTexts(filtered)).contains("all \u2014 60 samples")
                .noneMatch(t -> t.startsWith("luajit"));
    }

    @Test
    void scriptErrorsAreReportedInThePage() throws Exception {
        // The bare template has no data: JSON.parse fails, and the page must say so (this is what
        // makes "no errors" in the other tests mean something).
        Path page = OUT.resolve("broken.html");
        try (var in = FlameGraphHtmlWriter.class.getResourceAsStream(FlameGraphHtmlWriter.TEMPLATE_RESOURCE)) {
            Files.write(page, in.readAllBytes());
        }
        String broken = HeadlessChromium.dumpDom(page, "", null, 3000);
        assertThat(attribute(broken, "data-render")).isEqualTo("error");
        assertThat(broken).containsPattern("<pre id=\"errors\">error: [^<]*JSON");
    }

    @Test
    void fiftyThousandStacksRenderWithoutSubPixelFrames() throws Exception {
        Profile big = SampleProfiles.large(50_000, 42);
        Path page = OUT.resolve("large.html");
        long t0 = System.nanoTime();
        new FlameGraphHtmlWriter().writeFile(big, page);
        long writeMs = (System.nanoTime() - t0) / 1_000_000;
        String html = HeadlessChromium.dumpDom(page, "", Path.of("target", "flamegraph-large-screenshot.png"), 20_000);
        assertThat(attribute(html, "data-render")).isEqualTo("ok");
        int drawn = Integer.parseInt(attribute(html, "data-drawn"));
        // At 1px minimum width, each row holds at most one frame per pixel of the 1176px canvas.
        int rows = Integer.parseInt(attribute(html, "data-canvas-rect").split(",")[3]) / 18;
        assertThat(drawn).isPositive().isLessThanOrEqualTo(rows * 1176);
        System.out.printf("flame graph of 50k stacks: %d KB written in %d ms; page init %s ms, render %s ms,"
                        + " %d frames drawn in %d rows%n", Files.size(page) / 1024, writeMs,
                attribute(html, "data-init-ms"), attribute(html, "data-render-ms"), drawn, rows);
        assertThat(rows).isGreaterThan(8);
        assertThat(html).contains("Total samples: " + String.format("%,d", big.totalSamples()));
    }

    private static String percent(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (Character.isLetterOrDigit(c) && c < 128) {
                sb.append(c);
            } else {
                sb.append(String.format("%%%02X", b & 0xff));
            }
        }
        return sb.toString();
    }

    /** The page's colour families (see the KINDS table in flamegraph.html), by hue and saturation. */
    enum Family {
        KERNEL_ORANGE, NATIVE_RED, LUA_GREEN, JIT_AQUA, ERROR_GREY, PROCESS_VIOLET;

        static Family of(int rgb) {
            Color c = new Color(rgb);
            float[] hsb = Color.RGBtoHSB(c.getRed(), c.getGreen(), c.getBlue(), null);
            float hue = hsb[0] * 360;
            float sat = hsb[1];
            float bri = hsb[2];
            if (sat < 0.04 && bri > 0.55 && bri < 0.76) {
                return ERROR_GREY;
            }
            if (sat < 0.2) {
                return null;
            }
            if (hue >= 24 && hue <= 40 && sat > 0.6) {
                return KERNEL_ORANGE;
            }
            if ((hue >= 350 || hue <= 10) && sat > 0.4) {
                return NATIVE_RED;
            }
            if (hue >= 90 && hue <= 140) {
                return LUA_GREEN;
            }
            if (hue >= 180 && hue <= 208) {
                return JIT_AQUA;
            }
            if (hue >= 250 && hue <= 280) {
                return PROCESS_VIOLET;
            }
            return null;
        }
    }
}
