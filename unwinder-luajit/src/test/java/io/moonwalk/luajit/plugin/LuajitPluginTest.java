package io.moonwalk.luajit.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.interpreter.InterpreterPlugin;
import io.moonwalk.luajit.naming.LuaFrameSymbolizer;
import io.moonwalk.luajit.sync.VmLabels;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What the core learns about LuaJIT only through the seam: the plugin is found by ServiceLoader under the name its
 * frames carry as runtime, and it declares the trace number an integer label (OTLP sends it as an int).
 */
@Tag("pure")
class LuajitPluginTest {
    @Test
    void foundByServiceLoaderUnderItsFramesRuntime() {
        assertThat(InterpreterPlugin.installed()).extracting(InterpreterPlugin::name)
                .containsExactly(LuajitPlugin.NAME);
        assertThat(LuajitPlugin.NAME).isEqualTo(LuaFrameSymbolizer.RUNTIME);
    }

    @Test
    void traceNumberIsTheOnlyIntegerLabel() {
        InterpreterPlugin p = InterpreterPlugin.installed().getFirst();
        assertThat(p.integerLabels()).containsExactly(VmLabels.TRACE);
        assertThat(p.integerLabels()).doesNotContain(VmLabels.VM_STATE, VmLabels.VM, VmLabels.TRACE_KIND,
                VmLabels.TRACE_START);
    }
}
