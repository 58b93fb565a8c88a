package io.moonwalk.interpreter;

/** Names native code of the process being named (the core's symbolizer), for interpreter frames of C functions. */
@FunctionalInterface
public interface NativeNames {
    /** The symbol containing {@code address}, or null. */
    String symbolAt(long address);

    NativeNames NONE = a -> null;
}
