package io.moonwalk.agent.bpf;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

@Tag("pure")
class SamplerOptionsTest {
    @Test
    void validatesEveryField() {
        assertThatThrownBy(() -> SamplerOptions.wholeHost(0)).hasMessageContaining("0 Hz");
        assertThatThrownBy(() -> SamplerOptions.forPids(19, Set.of(-4))).hasMessageContaining("pid -4");
        assertThatThrownBy(() -> new SamplerOptions(19, Set.of(), 3 * 4096, true)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> new SamplerOptions(19, Set.of(), 1024, true)).hasMessageContaining("power of two");
        assertThat(SamplerOptions.wholeHost(99).ringBufferBytes()).isEqualTo(4 << 20);
    }
}
