package io.moonwalk.luajit.plugin;

import io.moonwalk.interpreter.Interpreter;
import io.moonwalk.interpreter.InterpreterContext;
import io.moonwalk.interpreter.InterpreterPlugin;

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
}
