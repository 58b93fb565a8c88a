package io.moonwalk.agent.bpf;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

@Tag("pure")
class OnlineCpusTest {
    @Test
    void parsesRangesAndSingles() {
        assertThat(OnlineCpus.parse("0-3,5,7-8\n")).containsExactly(0, 1, 2, 3, 5, 7, 8);
        assertThat(OnlineCpus.parse("0")).containsExactly(0);
    }

    @Test
    void rejectsGarbage() {
        assertThatThrownBy(() -> OnlineCpus.parse("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OnlineCpus.parse("3-1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OnlineCpus.parse("a-b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OnlineCpus.parse("0-99999999")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsThisMachine() {
        assertThat(OnlineCpus.read()).hasSize(Runtime.getRuntime().availableProcessors()).contains(0);
    }
}
