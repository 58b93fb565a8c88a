package io.moonwalk.agent.cli;

import io.moonwalk.agent.replay.CoreReplay;
import io.moonwalk.agent.replay.StackFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moonwalk stack --core FILE}: mixed native + Lua stacks of every thread of a core file, without root. */
@Command(name = "stack", description = "Print the mixed native and Lua stack of every thread of a core file, walked by"
        + " the same unwinder code as the kernel's and named as 'record' names frames.")
public final class StackCommand implements Callable<Integer> {
    @Option(names = "--core", required = true, paramLabel = "FILE", description = "The core file (kernel core dump or gcore).")
    Path core;

    @Option(names = "--modules", paramLabel = "DIR", description = "A module store: the mapped files by build id"
            + " (DIR/<build-id> or DIR/<build-id>.gz). Files not in it are taken from their paths on this machine when"
            + " their build id matches the core's.")
    Path modules;

    @Option(names = "--format", defaultValue = "text", paramLabel = "FORMAT",
            description = "text (one frame per line, leaf first), folded (one line per thread) or json. Default: ${DEFAULT-VALUE}.")
    String format;

    @Override
    public Integer call() throws Exception {
        StackFormat f;
        try {
            f = StackFormat.valueOf(format.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UsageProblem("--format must be text, folded or json, not '" + format + "'");
        }
        if (!Files.isRegularFile(core)) {
            throw new UsageProblem("--core " + core + ": no such file");
        }
        if (modules != null && !Files.isDirectory(modules)) {
            throw new UsageProblem("--modules " + modules + ": no such directory");
        }
        CoreReplay.Result r = CoreReplay.replay(core, modules, true);
        for (Map.Entry<String, String> e : r.missingFiles().entrySet()) {
            System.err.println("moonwalk: mapped file not found: " + e.getKey() + " (" + e.getValue()
                    + "); frames in it stay unnamed");
        }
        System.out.print(f.render(r));
        return 0;
    }
}
