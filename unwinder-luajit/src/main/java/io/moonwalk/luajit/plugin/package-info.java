/**
 * The LuaJIT interpreter plugin: the one entry point the profiling session sees ({@link
 * io.moonwalk.luajit.plugin.LuajitPlugin}, registered as a {@link java.util.ServiceLoader} provider). It wires
 * detection and walker values per file ({@code luajit.sync}), mcode-area routing per VM, VM labels, Lua frame
 * naming ({@code luajit.naming}) and JIT health into the {@code io.moonwalk.interpreter} seam.
 */
package io.moonwalk.luajit.plugin;
