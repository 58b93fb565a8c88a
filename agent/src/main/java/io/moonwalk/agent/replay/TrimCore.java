package io.moonwalk.agent.replay;

import java.nio.file.Path;

/**
 * Developer tool of testdata/replay/regenerate (not a moonwalk command): replays CORE with the module store MODULES
 * only, as the replay suite does, and writes to OUT the core trimmed to the memory that replay read.
 *     java -cp moonwalk.jar io.moonwalk.agent.replay.TrimCore CORE MODULES OUT
 */
public final class TrimCore {
    private TrimCore() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: TrimCore CORE MODULES OUT");
            System.exit(2);
        }
        CoreReplay.Result r = CoreReplay.replay(Path.of(args[0]), Path.of(args[1]), false, Path.of(args[2]));
        if (!r.missingFiles().isEmpty()) {
            System.err.println("TrimCore: files missing from " + args[1] + ": " + r.missingFiles());
            System.exit(1);
        }
    }
}
