/**
 * The interpreter plugin seam: the one interface an interpreter (LuaJIT today) implements to take part in a
 * profiling session, in the shape the best existing eBPF profiler uses — detect per file, per-file data, a
 * per-process instance that names frames and labels samples, and stats snapshots. Plugins are found with
 * {@link java.util.ServiceLoader}; nothing here names a particular interpreter.
 */
package io.moonwalk.interpreter;
