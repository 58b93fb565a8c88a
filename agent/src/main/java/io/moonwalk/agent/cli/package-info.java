/**
 * The command line (picocli): record, agent, bench, stack, version; flag, environment and config-file precedence; usage errors (exit 2).
 */
package io.moonwalk.agent.cli;
