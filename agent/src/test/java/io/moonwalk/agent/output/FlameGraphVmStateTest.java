package io.moonwalk.agent.output;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The LuaJIT VM-state split in the HTML flame graph, in headless Chromium: the header shows each state's share
 * of the LuaJIT samples, and the label filter (dropdown, or {@code #filter=luajit.vm_state=...} in the URL)
 * narrows the graph and its totals to one state.
 */
@Tag("tools")
class FlameGraphVmStateTest {
    private static final Path OUT = Path.of("target", "flamegraph-vmstate");
    private static final ProcessIdentity LJ = new ProcessIdentity(99, "luajit", "/usr/bin/luajit", "");
    private static final CodeMapping LUAJIT = new CodeMapping("/usr/bin/luajit", 0x5600_0000_4000L,
            0x5600_0008_4000L, 0x4000, "");
    private static final CodeMapping LIBC = new CodeMapping("/usr/lib/x86_64-linux-gnu/libc.so.6", 0x7f00_1002_8000L,
            0x7f00_1017_d000L, 0x28000, "");
    private static final Frame MAIN = Frame.nativeCode("main", 0x5600_0000_5010L, LUAJIT);
    private static final Frame CHUNK = Frame.interpreted("luajit", "main chunk", "app.lua", 9, 0, false);
    private static final Frame HOT = Frame.interpreted("luajit", "hot", "app.lua", 3, 2, false);
    private static final Frame GSUB = Frame.interpreted("luajit", "string.gsub", "", 0, 0, false);
    private static final Frame MEMCPY = Frame.nativeCode("memcpy", 0x7f00_1010_0000L, LIBC);
    private static final Frame GC = Frame.nativeCode("gc_sweep", 0x5600_0000_7777L, LUAJIT);
    private static final String HOSTILE = "</script><img src=x onerror=alert(1)>";
    private static Path page;

    @BeforeAll
    static void write() throws Exception {
        Files.createDirectories(OUT);
        page = OUT.resolve("vmstate.html");
        // 60 interpreted + 30 c + 8 gc + 2 hostile-valued = 100 LuaJIT samples; 20 without the label
        Profile p = new Profile(1, 1_000_000_000L, 10_000_000L, List.of(
                entry(List.of(MAIN, CHUNK, HOT), "interpreted", 60),
                entry(List.of(MAIN, CHUNK, GSUB, MEMCPY), "c", 30),
                entry(List.of(MAIN, CHUNK, HOT, GC), "gc", 8),
                entry(List.of(MAIN, CHUNK), HOSTILE, 2),
                new Profile.Entry(new ProcessIdentity(5, "nginx", "/usr/sbin/nginx", ""), "nginx",
                        List.of(Frame.nativeCode("main", 0x5555_5555_7123L,
                                new CodeMapping("/usr/sbin/nginx", 0x5555_5555_6000L, 0x5555_5565_6000L, 0x2000, ""))),
                        Map.of(), 20)));
        OutputFormat.forPath(page).newWriter().writeFile(p, page);
    }

    private static Profile.Entry entry(List<Frame> frames, String state, long count) {
        return new Profile.Entry(LJ, "luajit", frames, Map.of("luajit.vm_state", state, "luajit.vm", "vm1"), count);
    }

    @Test
    void headerShowsTheShareOfEachVmStateAndTheDropdownOffersThem() throws Exception {
        String dom = HeadlessChromium.dumpDom(page, "", OUT.resolve("vmstate.png"), 3000);
        assertThat(attribute(dom, "data-render")).isEqualTo("ok");
        String box = element(dom, "vmstates");
        assertThat(box).contains("LuaJIT VM states (100 samples, 83.33% of all)")
                .contains(">interpreted 60.00%<").contains(">c 30.00%<").contains(">gc 8.00%<");
        // largest share first
        assertThat(box.indexOf("interpreted 60")).isLessThan(box.indexOf(">c 30")).isLessThan(box.indexOf("gc 8"));
        assertThat(dom).contains("luajit.vm_state = interpreted").contains("luajit.vm_state = c");
        // a hostile label value is text, never markup
        assertThat(box).contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; 2.00%");
        assertThat(dom).doesNotContain("<img src=\"x\"").doesNotContain("<img src=x");
        assertThat(drawn(dom)).contains("all \u2014 120 samples", "hot (app.lua:3) \u2014 68 samples");
    }

    @Test
    void filteringOnAVmStateChangesTheTotals() throws Exception {
        String interp = HeadlessChromium.dumpDom(page, "#filter=" + enc("luajit.vm_state=interpreted"), null, 3000);
        assertThat(attribute(interp, "data-render")).isEqualTo("ok");
        assertThat(interp).contains("shown: 60 (50.00%)");
        assertThat(interp).containsPattern("data-vmstate=\"interpreted\"[^>]*aria-pressed=\"true\"")
                .containsPattern("data-vmstate=\"c\"[^>]*aria-pressed=\"false\"");
        assertThat(drawn(interp)).contains("all \u2014 60 samples", "hot (app.lua:3) \u2014 60 samples")
                .noneMatch(t -> t.startsWith("string.gsub") || t.startsWith("nginx") || t.startsWith("gc_sweep"));

        String c = HeadlessChromium.dumpDom(page, "#filter=" + enc("luajit.vm_state=c"), null, 3000);
        assertThat(c).contains("shown: 30 (25.00%)");
        assertThat(drawn(c)).contains("all \u2014 30 samples", "string.gsub \u2014 30 samples", "memcpy \u2014 30 samples")
                .noneMatch(t -> t.startsWith("hot ("));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String attribute(String html, String name) {
        Matcher m = Pattern.compile("<html[^>]*\\s" + name + "=\"([^\"]*)\"").matcher(html);
        return m.find() ? m.group(1) : null;
    }

    private static String element(String html, String id) {
        Matcher m = Pattern.compile("<div id=\"" + id + "\"[^>]*>(.*?)</div>", Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as("#" + id + " in the DOM").isTrue();
        return m.group(1);
    }

    private static List<String> drawn(String html) {
        Matcher list = Pattern.compile("<ol id=\"frame-text\"[^>]*>(.*?)</ol>", Pattern.DOTALL).matcher(html);
        assertThat(list.find()).as("frame text list in DOM").isTrue();
        return Pattern.compile("<li>(.*?)</li>", Pattern.DOTALL).matcher(list.group(1)).results()
                .map(r -> r.group(1)).toList();
    }
}
