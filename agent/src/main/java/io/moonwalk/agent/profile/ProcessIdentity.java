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

    /** The container id shortened as container engines show it (12 hex digits), or empty. */
    public String shortContainerId() {
        return containerId.length() > 12 ? containerId.substring(0, 12) : containerId;
    }

    /**
     * The command as the root frame of outputs: {@code nginx (container 4ab8b24a3361)} for a process in a
     * container, so stacks of different containers do not merge; the bare command otherwise.
     */
    public String commandWithContainer() {
        return containerId.isEmpty() ? command : command + " (container " + shortContainerId() + ")";
    }
}
