package io.moonwalk.agent.web;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.agent.store.ProfileKind;
import org.junit.jupiter.api.Test;

@Tag("pure")
class ViewQueryTest {
    @Test
    void parsesAndDefaults() {
        ViewQuery q = ViewQuery.parse("from=1000&to=5000&pid=42&vmstate=compiled%20trace", 9_999_999);
        assertThat(q).isEqualTo(new ViewQuery(1000, 5000, 42, "compiled trace", 0, 0, ProfileKind.CPU));
        assertThat(ViewQuery.parse("from=1&to=2&type=offcpu", 9).kind()).isEqualTo(ProfileKind.OFF_CPU);
        assertThat(ViewQuery.parse("from=1&to=2&type=mmap", 9).kind()).isEqualTo(ProfileKind.MMAP);
        assertThat(ViewQuery.parse("from=1&to=2&type=cpu", 9).kind()).isEqualTo(ProfileKind.CPU);
        assertThat(ViewQuery.kind("from=1&type=mmap")).isEqualTo(ProfileKind.MMAP);
        assertThatThrownBy(() -> ViewQuery.parse("type=wall", 9))
                .hasMessageContaining("type 'wall' is not cpu, offcpu or mmap");
        ViewQuery d = ViewQuery.parse(null, 10_000_000);
        assertThat(d.toMillis()).isEqualTo(10_000_001);
        assertThat(d.fromMillis()).isEqualTo(10_000_001 - 15 * 60_000);
        assertThat(d.pid()).isZero();
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> ViewQuery.parse("from=abc", 0)).hasMessageContaining("from='abc'");
        assertThatThrownBy(() -> ViewQuery.parse("from=10&to=5", 0)).hasMessageContaining("after");
        assertThatThrownBy(() -> ViewQuery.parse("pid=-3", 0)).hasMessageContaining("not a process id");
    }

    @Test
    void escapesHtml() {
        assertThat(Html.escape("<a href=\"x\">'&'</a>")).isEqualTo("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
