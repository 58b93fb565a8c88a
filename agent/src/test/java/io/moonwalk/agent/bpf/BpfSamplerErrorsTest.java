package io.moonwalk.agent.bpf;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The failure messages an operator sees, produced by the real kernel refusing us. */
@Tag("kernel")
class BpfSamplerErrorsTest {
    private static final Path BPF_DIR = Path.of("../bpf").toAbsolutePath().normalize();

    @Test
    void verifierRejectionQuotesTheVerifierLog(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("broken.bpf.c");
        Files.writeString(src, """
                #include "vmlinux.h"
                #include <bpf/bpf_helpers.h>
                #include <bpf/bpf_tracing.h>
                #include "record.bpf.h"

                struct mw_scratch_map scratch SEC(".maps");
                struct mw_events_map events SEC(".maps");

                SEC("perf_event")
                int mw_sample(void *ctx)
                {
                    __u32 zero = 0;
                    struct mw_sample *s = bpf_map_lookup_elem(&scratch, &zero);

                    if (!s)
                        return 0;
                    return *(__u32 *)((char *)s + 5000); /* past the 4160-byte value: refused */
                }

                SEC("tracepoint/sched/sched_process_exit")
                int mw_process_exit(void *ctx)
                {
                    return 0;
                }

                char LICENSE[] SEC("license") = "GPL";
                """);
        Path obj = dir.resolve("broken.bpf.o");
        Burner.run("clang", "-O2", "-g", "-target", "bpf", "-D__TARGET_ARCH_x86",
                "-I" + BPF_DIR.resolve("build/gen"), "-I" + BPF_DIR.resolve("src"),
                "-I/usr/include/" + Burner.run("gcc", "-dumpmachine").strip(), "-c", src.toString(), "-o", obj.toString());
        byte[] image = Files.readAllBytes(obj);

        assertThatThrownBy(() -> BpfSampler.open(SamplerOptions.wholeHost(19), image).close())
                .isInstanceOf(BpfException.class)
                .satisfies(e -> {
                    BpfException b = (BpfException) e;
                    String[] lines = b.getMessage().split("\n");
                    // one line: which program, the verifier's reason, the kernel; then the log
                    assertThat(lines[0]).startsWith("the BPF verifier of kernel " + KernelFeatures.release()
                                    + " rejected program mw_sample: invalid access to map value")
                            .contains("report this kernel with the log below");
                    assertThat(lines[1]).isEqualTo("libbpf/verifier log (tail):");
                    assertThat(b.getMessage()).hasLineCount(lines.length).doesNotContain("CAP_BPF");
                    assertThat(b.kernelRefused()).isTrue();
                    assertThat(io.moonwalk.agent.cli.Main.exitCodeOf(new IllegalStateException("wrapped", b)))
                            .isEqualTo(io.moonwalk.agent.cli.Main.EXIT_KERNEL_REFUSED).isEqualTo(4);
                });
    }

    @Test
    void otherFailuresAreNoKernelRefusal() {
        assertThat(io.moonwalk.agent.cli.Main.exitCodeOf(new BpfException("attaching failed"))).isEqualTo(1);
        assertThat(io.moonwalk.agent.cli.Main.exitCodeOf(new IllegalStateException("x"))).isEqualTo(1);
    }

    @Test
    void thisKernelHasEveryProbedFeature() {
        // the probes must pass where the programs load (a probe that wrongly refuses would stop every start)
        KernelFeatures.require(BpfSampler.KERNEL_BTF);
    }

    @Test
    void aKernelWithoutBtfIsRefusedInOneLineNamingIt(@TempDir Path dir) {
        assertThatThrownBy(() -> KernelFeatures.require(dir.resolve("vmlinux")))
                .isInstanceOf(BpfException.class)
                .hasMessageContaining("has no BTF (" + dir.resolve("vmlinux") + ")")
                .hasMessageContaining("CONFIG_DEBUG_INFO_BTF=y")
                .satisfies(e -> assertThat(((BpfException) e).kernelRefused()).isTrue())
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void unprivilegedUserIsToldWhichCapabilitiesAreNeeded() throws Exception {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        String cp = String.join(":", Path.of("target/classes").toAbsolutePath().toString(),
                Path.of("target/test-classes").toAbsolutePath().toString(),
                BPF_DIR.resolve("target/classes").toString());
        String out = Burner.run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                javaBin.toString(), "-XX:-UsePerfData", "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                OpenAsCurrentUser.class.getName());
        assertThat(out).doesNotContain("OPENED").contains("BpfException: ").contains("CAP_BPF, CAP_PERFMON")
                .contains("Operation not permitted");
    }
}
