package io.moonwalk.agent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** Prints the version of moonwalk, the JVM and the kernel. */
@Command(name = "version", description = "Print version information.")
public final class VersionCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        for (String line : new Provider().getVersion()) {
            System.out.println(line);
        }
        return 0;
    }

    /** Version lines shared by {@code moonwalk version} and {@code moonwalk --version}. */
    public static final class Provider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {
                "moonwalk " + (v != null ? v : "dev"),
                "java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")",
                "kernel " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
            };
        }
    }
}
