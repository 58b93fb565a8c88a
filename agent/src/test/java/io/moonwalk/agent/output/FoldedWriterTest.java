package io.moonwalk.agent.output;

import org.junit.jupiter.api.Tag;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Tag("pure")
class FoldedWriterTest {

    private static String folded(Profile p) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new FoldedWriter().write(p, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void writesOneSortedLinePerDistinctStackMergingThreadsAndLabels() throws IOException {
        assertThat(folded(SampleProfiles.small())).isEqualTo("""
                luajit;main;f (stdin:1);[unknown] 7
                nginx;main;epoll_wait;do_epoll_wait_[k];schedule_[k] 20
                nginx;main;ngx_http_handler;handler (/etc/nginx/app.lua:12);fib (/etc/nginx/app.lua:3)_[j] 45
                """);
    }

    @Test
    void sanitizesSeparatorsAndLineBreaksInNames() throws IOException {
        ProcessIdentity p = new ProcessIdentity(1, "we;ird\ncmd", "", "");
        Profile profile = new Profile(0, 1, 1, List.of(
                new Profile.Entry(p, "t", List.of(
                        Frame.nativeCode("a;b", 1, CodeMapping.NONE),
                        Frame.interpreted("luajit", "x\r\ny\u2028z\tq", "", 0, 0, false),
                        Frame.interpreted("luajit", "", "", 0, 0, false),
                        Frame.nativeCode("ends with space ", 2, CodeMapping.NONE)), Map.of(), 3)));
        String text = folded(profile);
        assertThat(text).isEqualTo("we:ird cmd;a:b;x  y z q;[unknown];ends with space  3\n");
        // The sanitized output parses back into the same frames.
        assertThat(FoldedParser.parse(text)).containsExactly(new FoldedStack(
                List.of("we:ird cmd", "a:b", "x  y z q", "[unknown]", "ends with space "), 3));
    }

    @Test
    void skipsZeroCountsAndRejectsNegativeOnes() throws IOException {
        ProcessIdentity p = new ProcessIdentity(9, "p", "", "");
        Frame f = Frame.nativeCode("f", 1, CodeMapping.NONE);
        assertThat(folded(new Profile(0, 1, 1, List.of(new Profile.Entry(p, "t", List.of(f), Map.of(), 0)))))
                .isEmpty();
        assertThatThrownBy(() -> folded(new Profile(0, 1, 1,
                List.of(new Profile.Entry(p, "t", List.of(f), Map.of(), -2)))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative").hasMessageContaining("9");
    }

    @Test
    void parserRoundTripsAWrittenFile(@TempDir Path dir) throws IOException {
        Profile profile = SampleProfiles.large(2000, 7);
        Path file = dir.resolve("p.folded");
        OutputFormat.forPath(file).newWriter().writeFile(profile, file);
        List<FoldedStack> parsed = FoldedParser.parse(file);
        long sum = parsed.stream().mapToLong(FoldedStack::count).sum();
        assertThat(sum).isEqualTo(profile.totalSamples());
        assertThat(parsed).hasSize(FoldedWriter.collapse(profile).size());
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            assertThat(parsed.get(i).line()).isEqualTo(lines.get(i));
        }
        assertThat(lines).isSorted();
    }

    @Test
    void parserKeepsSpacesInsideFramesAndTakesTheCountAfterTheLastSpace() throws IOException {
        assertThat(FoldedParser.parse("a b;c (d:1) 12\nx 1"))
                .containsExactly(new FoldedStack(List.of("a b", "c (d:1)"), 12), new FoldedStack(List.of("x"), 1));
    }

    @Test
    void parserRejectsMalformedLinesWithTheLineNumber() {
        String[] bad = {
                "", "abc", "a;b", "a;b 0", "a;b -1", "a;b +1", "a;b 1x", "a;b 1 ", "a;;b 3", ";a 3", "a; 3",
                " 3", "a 99999999999999999999", "a\t1", "a\u0000b 1", "a\u2028b 1", "a;b 1.5"
        };
        for (String line : bad) {
            assertThatThrownBy(() -> FoldedParser.parse("ok;stack 1\n" + line + "\n"))
                    .as("line %s", line.replace("\t", "\\t"))
                    .isInstanceOf(FoldedFormatException.class)
                    .hasMessageStartingWith("folded stacks line 2: ")
                    .satisfies(e -> assertThat(((FoldedFormatException) e).lineNumber()).isEqualTo(2));
        }
    }
}
