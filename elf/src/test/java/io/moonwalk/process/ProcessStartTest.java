package io.moonwalk.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("pure")
class ProcessStartTest {
    @Test
    void fieldTwentyTwoEvenWhenTheCommandHoldsSpacesAndParentheses() {
        String stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 100 ...\n";
        assertThat(ProcessStart.parse(stat)).isEqualTo(98765);
        assertThat(ProcessStart.parse("garbage")).isEqualTo(ProcessStart.GONE);
        assertThat(ProcessStart.parse("1 (x) S 1 2")).isEqualTo(ProcessStart.GONE);
    }

    @Test
    void ownProcessHasAStartTimeAndAMissingOneIsGone() throws Exception {
        long self = ProcessStart.ticks(Path.of("/proc"), (int) ProcessHandle.current().pid());
        assertThat(self).isPositive();
        String line = Files.readString(Path.of("/proc/self/stat"));
        assertThat(line.split(" ")[21]).isEqualTo(Long.toString(self)); // comm of a JVM has no spaces
        assertThat(ProcessStart.ticks(Path.of("/proc"), Integer.MAX_VALUE)).isEqualTo(ProcessStart.GONE);
    }
}
