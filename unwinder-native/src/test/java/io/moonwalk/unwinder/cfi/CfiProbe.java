package io.moonwalk.unwinder.cfi;

import io.moonwalk.elf.DebugFileLocator;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import java.nio.file.Path;

/** Child-JVM entry point for {@link CfiAmplificationTest}: builds a file's unwind table, prints the outcome. */
public final class CfiProbe {
    private CfiProbe() {}

    public static void main(String[] args) throws Exception {
        try (ElfFile elf = ElfFile.open(Path.of(args[0]))) {
            FileUnwindInfo info = FileUnwindInfo.build(elf, null, new RuleDictionary(), DebugFileLocator.none(), false);
            System.out.println("OK " + info.table().entryCount() + " " + info.problems());
        } catch (CfiFormatException | ElfFormatException e) {
            System.out.println("REFUSED " + e.getMessage());
        }
    }
}
