package io.moonwalk.agent.output;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Tag("pure")
class OutputFormatTest {

    @Test
    void choosesTheFormatByExtension() {
        assertThat(OutputFormat.forPath(Path.of("/tmp/x/flame.html"))).isEqualTo(OutputFormat.HTML);
        assertThat(OutputFormat.forPath(Path.of("out.FOLDED"))).isEqualTo(OutputFormat.FOLDED);
        assertThat(OutputFormat.forPath(Path.of("cpu.pb.gz"))).isEqualTo(OutputFormat.PPROF);
        assertThat(OutputFormat.HTML.newWriter()).isInstanceOf(FlameGraphHtmlWriter.class);
        assertThat(OutputFormat.FOLDED.newWriter()).isInstanceOf(FoldedWriter.class);
        assertThat(OutputFormat.PPROF.newWriter()).isInstanceOf(PprofWriter.class);
    }

    @Test
    void unknownExtensionNamesTheFileAndTheSupportedOnes() {
        for (String name : new String[] {"profile.gz", "profile.pb", "profile", ".html", "profile.svg"}) {
            assertThatThrownBy(() -> OutputFormat.forPath(Path.of("/data/" + name)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("/data/" + name)
                    .hasMessageContaining(".html").hasMessageContaining(".folded").hasMessageContaining(".pb.gz");
        }
    }
}
