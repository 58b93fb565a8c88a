package io.moonwalk.agent.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import io.moonwalk.agent.store.ProfileKind;
import io.moonwalk.agent.store.ProfileStores;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store meters: one series per profile kind the agent stores, their bounds adding up to --store-max-size. */
class StoreMetricsTest {
    @Test
    void everyStoredKindHasItsOwnSeries(@TempDir Path dir) throws Exception {
        ProfileStores stores = ProfileStores.open(dir, 1 << 20, Duration.ofHours(1), Clock.systemUTC(),
                EnumSet.of(ProfileKind.CPU, ProfileKind.MMAP));
        ProcessIdentity p = new ProcessIdentity(7, "luajit", "/usr/bin/luajit", "");
        stores.get(ProfileKind.MMAP).write(new Profile(System.currentTimeMillis() * 1_000_000L, 1_000_000_000L, 0,
                List.of(new Profile.Entry(p, "luajit", List.of(Frame.nativeCode("mmap", 0x401000, CodeMapping.NONE)),
                        Map.of(), 42)), SampleType.MMAP));
        AgentMetrics m = new AgentMetrics();
        m.bindStores(stores);
        String text = m.scrape();
        assertThat(text).contains("moonwalk_store_windows{profile=\"mmap\"} 1.0", "moonwalk_store_windows{profile=\"cpu\"} 0.0",
                "moonwalk_store_files{profile=\"mmap\"} 2.0", "moonwalk_store_limit_bytes{profile=\"mmap\"} 262144.0",
                "moonwalk_store_limit_bytes{profile=\"cpu\"} 786432.0",
                "moonwalk_store_evicted_windows_total{profile=\"cpu\"} 0.0",
                "moonwalk_store_write_failures_total{profile=\"mmap\"} 0.0")
                .doesNotContain("profile=\"offcpu\"");
        assertThat(text).containsPattern("moonwalk_store_bytes\\{profile=\"mmap\"} [1-9]");
    }
}
