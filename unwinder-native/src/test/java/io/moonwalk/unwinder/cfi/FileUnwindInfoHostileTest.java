package io.moonwalk.unwinder.cfi;

import org.junit.jupiter.api.Tag;
import io.moonwalk.elf.DebugFileLocator;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.elf.ElfFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken debug files and padding bytes: a clear problem entry or a kept INVALID gap, never a crash. */
@Tag("tools")
class FileUnwindInfoHostileTest {
    @TempDir
    Path tmp;

    /** Copies the zlib-compressed split fixture and lets {@code edit} change its .debug_frame bytes in place. */
    private FileUnwindInfo buildWithEditedDebugFrame(java.util.function.Consumer<ByteBuffer> edit) throws Exception {
        SplitDebugFixtures f = SplitDebugFixtures.get();
        Path bin = tmp.resolve("zstripped");
        Path debug = tmp.resolve("zfull.debug");
        Files.copy(f.zstripped, bin, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(f.zDebug, debug, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Matcher m = Pattern.compile("\\.debug_frame\\s+PROGBITS\\s+[0-9a-f]+\\s+([0-9a-f]+)\\s+([0-9a-f]+)")
                .matcher(ExternalTool.run("readelf", "-SW", debug.toString()));
        assertThat(m.find()).isTrue();
        long off = Long.parseLong(m.group(1), 16);
        int size = Integer.parseInt(m.group(2), 16);
        try (FileChannel ch = FileChannel.open(debug, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, off, size).order(ByteOrder.LITTLE_ENDIAN);
            edit.accept(b);
        }
        // The CRC no longer matches, so reach the edited file by build-id instead of the debuglink.
        String id = FileUnwindInfoTest.buildIdOf(bin);
        Path root = tmp.resolve("root");
        Path byId = root.resolve(".build-id/" + id.substring(0, 2) + "/" + id.substring(2) + ".debug");
        Files.createDirectories(byId.getParent());
        Files.move(debug, byId, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (ElfFile elf = ElfFile.open(bin)) {
            return FileUnwindInfo.build(elf, bin, new RuleDictionary(), new DebugFileLocator(List.of(root)), true);
        }
    }

    @Test
    void hugeInflatedSizeIsRefusedBeforeAllocating() throws Exception {
        FileUnwindInfo info = buildWithEditedDebugFrame(b -> b.putLong(8, 1L << 40));
        assertThat(info.sources()).containsExactly(FileUnwindInfo.Source.EH_FRAME);
        assertThat(info.problems()).anyMatch(p -> p.contains(".debug_frame") && p.contains("limit"));
    }

    @Test
    void corruptZlibStreamIsAProblemNotACrash() throws Exception {
        FileUnwindInfo info = buildWithEditedDebugFrame(b -> {
            for (int i = 24; i < b.limit(); i++) {
                b.put(i, (byte) (b.get(i) ^ 0x5a));
            }
        });
        assertThat(info.sources()).containsExactly(FileUnwindInfo.Source.EH_FRAME);
        assertThat(info.problems()).anyMatch(p -> p.contains("zlib") || p.contains("inflated"));
    }

    @Test
    void zstdAndUnknownCompressionAreNamed() throws Exception {
        assertThat(buildWithEditedDebugFrame(b -> b.putInt(0, 2)).problems()).anyMatch(p -> p.contains("zstd"));
        assertThat(buildWithEditedDebugFrame(b -> b.putInt(0, 77)).problems())
                .anyMatch(p -> p.contains("unknown compression type 77"));
    }

    @Test
    void paddingRecogniserOnRealEncodings() {
        // The nop forms gcc/gas emit between functions (objdump names in comments).
        String[] padding = {
            "90", "6690", "0f1f00", "0f1f4000", "0f1f440000", "660f1f440000", "0f1f8000000000",
            "0f1f840000000000", "660f1f840000000000", "662e0f1f840000000000", "66662e0f1f840000000000",
            "cccccc", "0000", "66662e0f1f8400000000000f1f4000", "90cc0f1f00"};
        for (String hex : padding) {
            byte[] b = HexFormat.of().parseHex(hex);
            assertThat(X86Padding.isPadding(ByteBuffer.wrap(b), 0, b.length)).as(hex).isTrue();
        }
        String[] code = {
            "c3", "e9000000", "31ed", "0f05", "0f1f", "0f1f84000000", "0f1f48", "66", "2e", "53", "90c3",
            "0f1f4000c3"};
        for (String hex : code) {
            byte[] b = HexFormat.of().parseHex(hex);
            assertThat(X86Padding.isPadding(ByteBuffer.wrap(b), 0, b.length)).as(hex).isFalse();
        }
        ByteBuffer small = ByteBuffer.wrap(new byte[] {(byte) 0x90, (byte) 0x90});
        assertThat(X86Padding.isPadding(small, 1, 5)).as("range past the buffer").isFalse();
        assertThat(X86Padding.isPadding(small, -1, 1)).isFalse();
        assertThat(X86Padding.isPadding(small, 0, 0)).isFalse();
        Random rnd = new Random(3);
        byte[] noise = new byte[4096];
        rnd.nextBytes(noise);
        for (int i = 0; i < 4000; i++) {
            X86Padding.isPadding(ByteBuffer.wrap(noise), rnd.nextInt(4096), 1 + rnd.nextInt(16)); // must not throw
        }
    }
}
