/**
 * Foreign-function bindings (FFM) to libbpf and the few libc calls the loader needs.
 */
package io.moonwalk.agent.ffi;
