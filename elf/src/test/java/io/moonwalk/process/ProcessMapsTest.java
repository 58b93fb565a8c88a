package io.moonwalk.process;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

@Tag("tools")
class ProcessMapsTest {

    @Test
    void parsesTheKindsOfLinesTheKernelWrites() {
        String text = """
                55d0c8a00000-55d0c8a2b000 r--p 00000000 fd:01 1835046                    /usr/sbin/nginx
                55d0c8a2b000-55d0c8b1e000 r-xp 0002b000 fd:01 1835046                    /usr/sbin/nginx
                55d0c9000000-55d0c9100000 rw-p 00000000 00:00 0                          [heap]
                7f1a00000000-7f1a00021000 rwxp 00000000 00:00 0
                7f1a10000000-7f1a10010000 r-xp 00001000 103:02 42                         /opt/my app/lib with spaces.so
                7f1a20000000-7f1a20004000 r-xp 00000000 08:11 777                        /tmp/gone (deleted)
                7f1a30000000-7f1a30001000 r-xp 00000000 00:01 99                         /memfd:jit-code (deleted)
                7f1a40000000-7f1a40001000 rw-p 00000000 00:00 0                          [anon:lua arena]
                7ffd7b5f2000-7ffd7b5f4000 r-xp 00000000 00:00 0                          [vdso]
                ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
                """;
        ProcessMaps maps = ProcessMaps.parse(text);
        assertThat(maps.malformedLines()).isZero();
        assertThat(maps.mappings()).hasSize(10);

        Mapping nginx = maps.find(0x55d0c8a2b123L);
        assertThat(nginx.isExecutable()).isTrue();
        assertThat(nginx.isFileBacked()).isTrue();
        assertThat(nginx.offset()).isEqualTo(0x2b000);
        assertThat(nginx.devMajor()).isEqualTo(0xfd);
        assertThat(nginx.devMinor()).isEqualTo(1);
        assertThat(nginx.inode()).isEqualTo(1835046);
        assertThat(nginx.fileName()).isEqualTo("nginx");
        assertThat(nginx.fileOffset(0x55d0c8a2b123L)).isEqualTo(0x2b123);
        assertThat(nginx.mapFilesName()).isEqualTo("55d0c8a2b000-55d0c8b1e000");

        Mapping jit = maps.find(0x7f1a00000010L);
        assertThat(jit.isAnonymous()).isTrue();
        assertThat(jit.isFileBacked()).isFalse();
        assertThat(jit.path()).isEmpty();

        Mapping spaces = maps.find(0x7f1a10000000L);
        assertThat(spaces.path()).isEqualTo("/opt/my app/lib with spaces.so");
        assertThat(spaces.devMajor()).isEqualTo(0x103);
        assertThat(spaces.fileName()).isEqualTo("lib with spaces.so");

        Mapping gone = maps.find(0x7f1a20000000L);
        assertThat(gone.isDeleted()).isTrue();
        assertThat(gone.filePath()).isEqualTo("/tmp/gone");

        Mapping memfd = maps.find(0x7f1a30000000L);
        assertThat(memfd.isFileBacked()).isTrue();
        assertThat(memfd.isDeleted()).isTrue();

        assertThat(maps.find(0x7f1a40000000L).isAnonymous()).isTrue();
        assertThat(maps.find(0x7ffd7b5f2001L).isVdso()).isTrue();
        assertThat(maps.find(0xffffffffff600000L).path()).isEqualTo("[vsyscall]");
        assertThat(maps.find(0x1000)).isNull();
        assertThat(maps.find(0x55d0c8b1e000L)).isNull(); // end is exclusive, and a gap follows
    }

    @Test
    void malformedLinesAreCountedNotFatal() {
        String text = """
                not a maps line
                1000-2000 r-xp 00000000 fd:01 12 /ok
                2000-1000 r-xp 00000000 fd:01 12 /end-before-start
                3000-4000 r-x 00000000 fd:01 12 /short-perms
                5000-6000 r-xp 0000zz00 fd:01 12 /bad-offset
                7000-8000 r-xp 00000000 fd01 12 /bad-dev
                9000-a000 r-xp 00000000 fd:01 12x /bad-inode
                11111111111111111-a000 r-xp 00000000 fd:01 12 /too-long
                b000-c000 r-xp 00000000 fd:01 12
                """;
        ProcessMaps maps = ProcessMaps.parse(text);
        assertThat(maps.mappings()).extracting(Mapping::path).containsExactly("/ok", "");
        assertThat(maps.malformedLines()).isEqualTo(7);
    }

    @Test
    void ownMapsContainTheJvmAndVdso() throws IOException {
        ProcessMaps maps = ProcessMaps.read((int) ProcessHandle.current().pid());
        assertThat(maps.malformedLines()).isZero();
        assertThat(maps.mappings()).anyMatch(m -> m.isExecutable() && m.fileName().equals("libjvm.so"));
        assertThat(maps.mappings()).anyMatch(Mapping::isVdso);
        // Cross-check with the kernel's own count of lines.
        long lines = Files.readAllLines(Path.of("/proc/self/maps")).size();
        assertThat((long) maps.mappings().size()).isBetween(lines - 50, lines + 50);
    }

    @Test
    void processInfoOfSelfAndOfAGoneProcess() throws Exception {
        int pid = (int) ProcessHandle.current().pid();
        ProcessInfo me = ProcessInfo.read(pid);
        assertThat(me.comm()).isEqualTo(Files.readString(Path.of("/proc/self/comm")).strip());
        assertThat(me.executable()).isEqualTo(ProcessHandle.current().info().command().orElseThrow());

        Process p = new ProcessBuilder("true").start();
        int gone = (int) p.pid();
        p.waitFor();
        try {
            ProcessInfo.read(gone);
            throw new AssertionError("read a reaped process");
        } catch (NoSuchFileException expected) {
            assertThat(expected.getMessage()).contains(Integer.toString(gone));
        }
    }
}
