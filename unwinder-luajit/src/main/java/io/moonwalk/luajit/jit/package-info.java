/**
 * LuaJIT's JIT state read from outside the process: mcode areas ({@code J->mcarea} chain), the trace
 * array, JIT parameters and flags ({@link io.moonwalk.luajit.jit.JitStateReader} producing
 * {@link io.moonwalk.luajit.jit.JitSnapshot}); flush and area-change detection between snapshots
 * ({@link io.moonwalk.luajit.jit.FlushDetector}); PC-to-trace lookup for the userspace fallback
 * ({@link io.moonwalk.luajit.jit.TraceLookup}); per-VM health figures ({@link io.moonwalk.luajit.jit.JitHealth});
 * and the LPM prefixes that route a process's mcode areas to the Lua walker
 * ({@link io.moonwalk.luajit.jit.McodeRouting}) — per area, never per trace (docs/architecture.md, non-negotiable 4).
 */
package io.moonwalk.luajit.jit;
