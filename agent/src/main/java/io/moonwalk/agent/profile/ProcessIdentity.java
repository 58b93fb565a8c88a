package io.moonwalk.agent.profile;

/**
 * The process a sample belongs to.
 *
 * @param pid         the process id (tgid) in the agent's PID namespace
 * @param command     the process name ({@code /proc/PID/comm} of the main thread)
 * @param executable  the executable path as the process sees it, or empty when unknown
 * @param containerId the container id from the cgroup path, or empty
 */
public record ProcessIdentity(int pid, String command, String executable, String containerId) {
}
