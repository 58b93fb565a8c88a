/** What {@code /proc/PID} says about a process: its memory mappings, name, executable and container. */
package io.moonwalk.symbolizer.process;
