package io.moonwalk.symbolize.kernel;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

@Tag("kernel")
class KernelSymbolsTest {

    /** The address of a symbol as the live kernel reports it, read independently of the parser. */
    private static long kallsymsAddress(String name) throws IOException {
        try (var lines = Files.lines(KernelSymbols.KALLSYMS)) {
            return lines.map(l -> l.split("\\s+"))
                    .filter(t -> t.length >= 3 && t[2].equals(name) && (t[1].equals("T") || t[1].equals("t")))
                    .map(t -> Long.parseUnsignedLong(t[0], 16))
                    .findFirst().orElseThrow(() -> new AssertionError(name + " not in /proc/kallsyms"));
        }
    }

    @Test
    void liveKernelResolvesWellKnownFunctions() throws IOException {
        KernelSymbols k = KernelSymbols.load();
        assertThat(k.size()).isGreaterThan(10_000);
        for (String name : new String[] {"schedule", "do_sys_openat2", "__x64_sys_read"}) {
            long addr = kallsymsAddress(name);
            assertThat(addr).as("kallsyms must show real addresses; this test runs as root").isNotZero();
            assertThat(k.nameAt(addr)).isEqualTo(name);
            assertThat(k.nameAt(addr + 5)).isEqualTo(name);
            int i = k.lookup(addr + 5);
            assertThat(k.address(i)).isEqualTo(addr);
            assertThat(k.module(i)).isNull();
        }
        assertThat(k.lookup(0x1000)).isEqualTo(-1);
        KernelSymbols again = k.reload();
        assertThat(again.nameAt(kallsymsAddress("schedule"))).isEqualTo("schedule");
    }

    @Test
    void parsesModulesAndSkipsDataSymbols() throws IOException {
        String text = """
                ffffffff81000000 T _stext
                ffffffff81001000 T first_func
                ffffffff81001100 t static_func
                ffffffff81001200 D some_data
                ffffffff81001300 W weak_func
                ffffffffc0201000 t nf_helper\t[nf_conntrack]
                ffffffffc0202000 T nf_conntrack_in\t[nf_conntrack]
                ffffffffc0300000 t ext4_thing\t[ext4]
                garbage line
                zzzzzzzzzzzzzzzz T bad_addr
                """;
        KernelSymbols k = KernelSymbols.parse(text, Path.of("test"));
        assertThat(k.nameAt(0xffffffff81001150L)).isEqualTo("static_func");
        // D is data: the static function keeps the range up to the next text symbol.
        assertThat(k.nameAt(0xffffffff81001250L)).isEqualTo("static_func");
        assertThat(k.nameAt(0xffffffff81001301L)).isEqualTo("weak_func");
        int i = k.lookup(0xffffffffc0202010L);
        assertThat(k.name(i)).isEqualTo("nf_conntrack_in");
        assertThat(k.module(i)).isEqualTo("nf_conntrack");
        assertThat(k.module(k.lookup(0xffffffffc0300004L))).isEqualTo("ext4");
        assertThat(k.lookup(0xffffffffc0300000L + KernelSymbols.LAST_SYMBOL_SPAN)).isEqualTo(-1);
        assertThat(k.size()).isEqualTo(7);
    }

    private static final String HIDDEN = """
            0000000000000000 T _stext
            0000000000000000 T schedule
            0000000000000000 t helper\t[mod]
            """;

    @Test
    void zeroAddressesWithoutCapSyslogNameTheCapabilityNotKptrRestrictZero() {
        // kptr_restrict is already 0: the old advice "set kptr_restrict=0" would change nothing
        assertThatThrownBy(() -> KernelSymbols.parse(HIDDEN, Path.of("/proc/kallsyms"), new KallsymsAccess(0, 2, false)))
                .isInstanceOf(KallsymsUnavailableException.class)
                .hasMessageContaining("every address reads as 0")
                .hasMessageContaining("lacks CAP_SYSLOG")
                .hasMessageContaining("kernel.kptr_restrict=0, perf_event_paranoid=2")
                .hasMessageNotContaining("set it to");
    }

    @Test
    void zeroAddressesUnderKptrRestrictTwoSayNoCapabilityHelps() {
        assertThatThrownBy(() -> KernelSymbols.parse(HIDDEN, Path.of("/proc/kallsyms"), new KallsymsAccess(2, 2, true)))
                .hasMessageContaining("kernel.kptr_restrict=2 hides kernel addresses from everyone")
                .hasMessageContaining("sysctl kernel.kptr_restrict=1");
    }

    @Test
    void zeroAddressesWithCapSyslogPointAtTheUserNamespace() {
        assertThatThrownBy(() -> KernelSymbols.parse(HIDDEN, Path.of("/proc/kallsyms"), new KallsymsAccess(1, 2, true)))
                .hasMessageContaining("not in the initial user namespace");
    }

    @Test
    void anEmptyFileIsASandboxNotAPermission() {
        assertThatThrownBy(() -> KernelSymbols.parse("", Path.of("/proc/kallsyms"), new KallsymsAccess(0, 2, true)))
                .isInstanceOf(KallsymsUnavailableException.class)
                .hasMessageContaining("is empty")
                .hasMessageContaining("ProtectKernelTunables=yes");
    }
}
