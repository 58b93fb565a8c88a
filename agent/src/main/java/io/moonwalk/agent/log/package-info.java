/**
 * Console logging setup for the command-line tool and the daemon.
 */
package io.moonwalk.agent.log;
