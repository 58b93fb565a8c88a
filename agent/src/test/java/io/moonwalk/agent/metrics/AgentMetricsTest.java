package io.moonwalk.agent.metrics;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@Tag("pure")
class AgentMetricsTest {
    @Test
    void unwindErrorsAreCountedPerReasonFromErrorFrames() {
        AgentMetrics m = new AgentMetrics();
        ProcessIdentity p = new ProcessIdentity(1, "x", "", "");
        Frame main = Frame.nativeCode("main", 0x401000, CodeMapping.NONE);
        m.recordWindow(new Profile(0, 1, 1, List.of(
                new Profile.Entry(p, "x", List.of(main, Frame.error("[unwind error: depth limit]")),
                        Map.of(), 5),
                new Profile.Entry(p, "x", List.of(main, Frame.error("[unwind error: no unwind info]")),
                        Map.of(), 2),
                new Profile.Entry(p, "x", List.of(main), Map.of(), 40))));
        String text = m.scrape();
        assertThat(text).contains("moonwalk_unwind_errors_total{reason=\"depth_limit\"} 5.0")
                .contains("moonwalk_unwind_errors_total{reason=\"no_unwind_info\"} 2.0")
                .contains("moonwalk_window_samples_total 47.0");
        assertThat(AgentMetrics.reasonOf("[unknown frame kind 9]")).isEqualTo("other");
    }

    @Test
    void reasonLabelValuesAreBounded() {
        AgentMetrics m = new AgentMetrics();
        ProcessIdentity p = new ProcessIdentity(1, "x", "", "");
        for (int i = 0; i < 100; i++) {
            m.recordWindow(new Profile(0, 1, 1, List.of(new Profile.Entry(p, "x",
                    List.of(Frame.error("[unwind error: reason " + i + "]")), Map.of(), 1))));
        }
        long series = m.scrape().lines().filter(l -> l.startsWith("moonwalk_unwind_errors_total{")).count();
        assertThat(series).isLessThanOrEqualTo(AgentMetrics.MAX_REASONS + 1);
    }
}
