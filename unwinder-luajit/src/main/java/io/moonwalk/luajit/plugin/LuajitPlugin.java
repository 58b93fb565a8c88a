package io.moonwalk.luajit.plugin;

import io.moonwalk.interpreter.Interpreter;
import io.moonwalk.interpreter.InterpreterContext;
import io.moonwalk.interpreter.InterpreterPlugin;
import io.moonwalk.luajit.sync.VmLabels;
import java.util.Set;

/** LuaJIT 2.1 (upstream and OpenResty, GC64 and not): found by {@link java.util.ServiceLoader}. */
public final class LuajitPlugin implements InterpreterPlugin {
    public static final String NAME = "luajit";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Interpreter start(InterpreterContext context) {
        return new LuajitInterpreter(context);
    }

    /** The trace number is a number; the other labels (vm_state, vm, trace_kind, trace_start) are names. */
    @Override
    public Set<String> integerLabels() {
        return Set.of(VmLabels.TRACE);
    }
}
