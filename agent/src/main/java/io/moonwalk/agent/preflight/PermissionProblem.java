package io.moonwalk.agent.preflight;

/**
 * The environment refuses something the profiler needs (a capability, a syscall under seccomp, a kernel
 * interface that is not mounted). Reported as one line with exit code 5: restarting does not help.
 */
public final class PermissionProblem extends RuntimeException {
    public PermissionProblem(String message) {
        super(message);
    }
}
