package io.moonwalk.frame;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("pure")
class FrameTest {
    private static final CodeMapping LIBC = new CodeMapping("/usr/lib/x86_64-linux-gnu/libc.so.6",
            0x7f00_0002_8000L, 0x7f00_001b_0000L, 0x28000, "abc123");

    @Test
    void interpretedLabelsShowFileAndLine() {
        assertThat(Frame.interpreted("luajit", "fib", "/srv/app.lua", 12, 10, false).label())
                .isEqualTo("fib (/srv/app.lua:12)");
        assertThat(Frame.interpreted("luajit", "fib", "/srv/app.lua", 12, 10, true).label())
                .isEqualTo("fib (/srv/app.lua:12)_[j]");
        assertThat(Frame.interpreted("luajit", "h", "content_by_lua(nginx.conf:12)", Frame.LINE_UNKNOWN, 0, false)
                .label()).isEqualTo("h (content_by_lua(nginx.conf:12))");
        assertThat(Frame.interpreted("luajit", "g", "x.lua", Frame.LINE_NO_INFO, 0, false).label())
                .isEqualTo("g (x.lua:?)");
        assertThat(Frame.interpreted("luajit", "pcall", "", 0, 0, true).label()).isEqualTo("pcall_[j]");
    }

    @Test
    void nativeAndKernelLabels() {
        assertThat(Frame.nativeCode("memcpy", 0x7f00_0002_9000L, LIBC).label()).isEqualTo("memcpy");
        assertThat(Frame.nativeCode("", 0x7f00_0002_9010L, LIBC).label()).isEqualTo("libc.so.6+0x29010");
        assertThat(Frame.nativeCode("", 0x1234, CodeMapping.NONE).label()).isEqualTo("[unknown] 0x1234");
        assertThat(Frame.kernel("schedule", 0xffffffff81000000L, CodeMapping.NONE).label()).isEqualTo("schedule_[k]");
        assertThat(Frame.kernel("", 0xffffffff81000010L, CodeMapping.NONE).label()).isEqualTo("0xffffffff81000010_[k]");
        assertThat(Frame.error("[unwind error: depth limit]").label()).isEqualTo("[unwind error: depth limit]");
    }

    @Test
    void onlyInterpretedFramesRunCompiled() {
        assertThatThrownBy(() -> new Frame(FrameKind.NATIVE, "f", "", 0, 0, 1, CodeMapping.NONE, true, false, ""))
                .isInstanceOf(IllegalArgumentException.class);
        Frame f = Frame.interpreted("luajit", "f", "a.lua", 3, 1, false);
        assertThat(f.withJit(true).jit()).isTrue();
        assertThat(f.withJit(true).withJit(false)).isEqualTo(f);
    }

    @Test
    void inlinedFramesAreCompiledAndLabelledApart() {
        assertThatThrownBy(() -> new Frame(FrameKind.INTERPRETED, "f", "a.lua", 0, 0, 0, CodeMapping.NONE, false, true,
                "luajit")).isInstanceOf(IllegalArgumentException.class);
        Frame f = Frame.interpreted("luajit", "c", "a.lua", 7, 5, false);
        Frame in = f.asInlined();
        assertThat(in.jit()).isTrue();
        assertThat(in.inlined()).isTrue();
        assertThat(in.label()).isEqualTo("c (a.lua:7)_[i]");
        assertThat(f.withJit(true).label()).isEqualTo("c (a.lua:7)_[j]");
        assertThat(in.withJit(false).inlined()).as("leaving compiled code drops the inlined mark").isFalse();
    }
}
