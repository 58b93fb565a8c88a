/**
 * Start-up checks of what profiling needs from the environment (capabilities, seccomp, tracefs, BTF), each
 * failure reported as one line naming its real cause, before anything is loaded.
 */
package io.moonwalk.agent.preflight;
