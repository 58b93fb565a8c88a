/**
 * Per-process map sync: /proc/PID/maps to LPM prefixes, shared refcounted unwind tables per file, the PID marker, and the worker that runs syncs off the sampling thread.
 */
package io.moonwalk.unwinder.sync;
