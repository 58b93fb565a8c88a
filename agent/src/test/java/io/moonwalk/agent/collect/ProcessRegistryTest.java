package io.moonwalk.agent.collect;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.symbolize.symbols.NativeSymbolizer;
import io.moonwalk.symbolize.symbols.ProcessSymbols;
import org.junit.jupiter.api.Test;

/** Re-reads of a process's maps are rate-limited: JIT addresses never resolve and must not re-read per address. */
class ProcessRegistryTest {
    private final int self = (int) ProcessHandle.current().pid();

    @Test
    void refreshIsRateLimitedUntilTheBackoffOrAForcedWindowReread() throws Exception {
        ProcessRegistry registry = new ProcessRegistry(new NativeSymbolizer(), 16);
        ProcessRegistry.TrackedProcess p = registry.get(self, "java");
        ProcessSymbols captured = p.symbols();
        assertThat(captured).as("this JVM's maps are readable").isNotNull();

        registry.refresh(p); // the first re-read happens at once
        ProcessSymbols afterFirst = p.symbols();
        assertThat(afterFirst).isNotSameAs(captured);
        assertThat(afterFirst.sameCode(captured)).as("nothing was mapped in between").isTrue();

        for (int i = 0; i < 100; i++) {
            registry.refresh(p); // an unresolved address per call: all inside the back-off
        }
        assertThat(p.symbols()).as("no re-read inside the back-off").isSameAs(afterFirst);

        registry.refresh(p, true); // a window's end re-reads once regardless
        assertThat(p.symbols()).isNotSameAs(afterFirst);

        Thread.sleep(ProcessRegistry.MIN_REFRESH_NANOS / 1_000_000 + 50);
        ProcessSymbols before = p.symbols();
        registry.refresh(p);
        assertThat(p.symbols()).as("the back-off doubled after a re-read that found nothing: still waiting")
                .isSameAs(before);
    }
}
