package io.moonwalk.agent.cli;

/** A problem with what the user asked for: reported as one line with exit code 2. */
public final class UsageProblem extends RuntimeException {
    public UsageProblem(String message) {
        super(message);
    }
}
