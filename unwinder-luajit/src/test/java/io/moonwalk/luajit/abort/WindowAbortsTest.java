package io.moonwalk.luajit.abort;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("pure")
class WindowAbortsTest {
    private static SiteName site(int line) {
        return new SiteName("function <app.lua:10>", "app.lua", line, 10);
    }

    @Test
    void aWindowCountsOnlyItsOwnAbortsAndRanksSites() {
        WindowAborts w = new WindowAborts();
        w.add(site(12), "NYI: bytecode", 3, false);
        w.add(site(15), "loop unroll limit reached", 5, false);
        w.add(site(12), "NYI: bytecode", 8, true);
        VmAborts.Summary first = w.cut(7, 0x1000, 10);
        assertThat(first.total()).isEqualTo(16);
        assertThat(first.byReason()).isEqualTo(Map.of("NYI: bytecode", 11L, "loop unroll limit reached", 5L));
        assertThat(first.top()).containsExactly(new AbortSite(site(12), "NYI: bytecode", 11, true),
                new AbortSite(site(15), "loop unroll limit reached", 5, false));
        assertThat(w.isEmpty()).as("the next window starts empty").isTrue();
        w.add(site(15), "loop unroll limit reached", 2, false);
        VmAborts.Summary second = w.cut(7, 0x1000, 1);
        assertThat(second.top()).containsExactly(new AbortSite(site(15), "loop unroll limit reached", 2, false));
        assertThat(site(12).display()).isEqualTo("function <app.lua:10> (app.lua:12)");
        assertThat(site(12).position()).isEqualTo("app.lua:12");
    }

    @Test
    void sitesBeyondTheBoundCountInTotalsOnly() {
        WindowAborts w = new WindowAborts();
        for (int i = 0; i < WindowAborts.MAX_SITES + 10; i++) {
            w.add(site(i + 1), "NYI: bytecode", 1, false);
        }
        VmAborts.Summary s = w.cut(1, 1, Integer.MAX_VALUE);
        assertThat(s.total()).isEqualTo(WindowAborts.MAX_SITES + 10);
        assertThat(s.top()).hasSize(WindowAborts.MAX_SITES);
    }
}
