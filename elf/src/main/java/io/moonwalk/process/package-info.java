/**
 * What {@code /proc/PID} says about a process (its memory mappings, name, executable and container) and
 * reading its memory from outside ({@link io.moonwalk.process.ProcessMemory}).
 */
package io.moonwalk.process;
