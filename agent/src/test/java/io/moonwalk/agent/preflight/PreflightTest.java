package io.moonwalk.agent.preflight;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreflightTest {
    /** CapEff of a container with exactly the DaemonSet's set: BPF PERFMON SYS_PTRACE DAC_READ_SEARCH CHECKPOINT_RESTORE SYSLOG. */
    private static final long MANIFEST_SET = (1L << 39) | (1L << 38) | (1L << 19) | (1L << 2) | (1L << 40) | (1L << 34);

    @Test
    void parsesCapEffAndSeccompFromProcStatus() {
        ProcessStatus s = ProcessStatus.parse("Name:\tjava\nCapEff:\t000001c400080004\nSeccomp:\t2\nSeccomp_filters:\t1\n");
        assertThat(s.capEff()).isEqualTo(0x1c400080004L);
        assertThat(s.seccompMode()).isEqualTo(2);
        assertThat(s.has(Capability.BPF)).isTrue();
        assertThat(s.has(Capability.SYS_ADMIN)).isFalse();
        assertThat(s.seccompFiltered()).isTrue();
    }

    @Test
    void theManifestSetLacksNothing() {
        assertThat(Preflight.missingCapabilities(new ProcessStatus(MANIFEST_SET, 0), true)).isEmpty();
    }

    @Test
    void eachRemovedCapabilityIsNamed() {
        for (Capability c : new Capability[] {Capability.BPF, Capability.PERFMON, Capability.SYS_PTRACE,
                Capability.DAC_READ_SEARCH, Capability.CHECKPOINT_RESTORE, Capability.SYSLOG}) {
            long without = MANIFEST_SET & ~(1L << c.ordinalNumber());
            assertThat(Preflight.missingCapabilities(new ProcessStatus(without, 0), true)).containsExactly(c);
        }
    }

    @Test
    void sysAdminStandsInForBpfPerfmonAndCheckpointRestore() {
        long adminSet = (1L << 21) | (1L << 19) | (1L << 2) | (1L << 34);
        assertThat(Preflight.missingCapabilities(new ProcessStatus(adminSet, 2), true)).isEmpty();
    }

    @Test
    void syslogIsNeededOnlyWhenKallsymsIsHidden() {
        long noSyslog = MANIFEST_SET & ~(1L << 34);
        assertThat(Preflight.missingCapabilities(new ProcessStatus(noSyslog, 0), false)).isEmpty();
    }

    @Test
    void oneLineNamesTheCapabilityAndTheFix() {
        String line = Preflight.describeMissing(java.util.List.of(Capability.SYS_PTRACE));
        assertThat(line).doesNotContain("\n").startsWith("missing capability CAP_SYS_PTRACE (")
                .contains("add SYS_PTRACE to the container's capabilities");
    }

    @Test
    void kallsymsWithOnlyZeroAddressesIsHidden(@TempDir Path dir) throws IOException {
        Path hidden = Files.writeString(dir.resolve("hidden"), "0000000000000000 T _stext\n0000000000000000 t x\n");
        Path shown = Files.writeString(dir.resolve("shown"), "0000000000000000 A fixed_percpu_data\nffffffff81000000 T _stext\n");
        assertThat(Preflight.kernelSymbolsHidden(hidden)).isTrue();
        assertThat(Preflight.kernelSymbolsHidden(shown)).isFalse();
        assertThat(Preflight.kernelSymbolsHidden(dir.resolve("absent"))).isTrue();
    }
}
