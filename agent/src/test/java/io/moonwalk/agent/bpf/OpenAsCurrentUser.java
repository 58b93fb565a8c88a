package io.moonwalk.agent.bpf;

/** Child-process entry for BpfSamplerErrorsTest: opens a sampler and prints how it failed. */
public final class OpenAsCurrentUser {
    private OpenAsCurrentUser() {}

    public static void main(String[] args) {
        try (BpfSampler s = BpfSampler.open(SamplerOptions.wholeHost(19))) {
            System.out.println("OPENED");
        } catch (BpfException e) {
            System.out.println("BpfException: " + e.getMessage());
        }
    }
}
