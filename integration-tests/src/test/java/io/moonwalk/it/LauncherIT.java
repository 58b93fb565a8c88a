package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./moonwalk} launcher starts the JVM with {@code deploy/jvm.options}, the file every launch path
 * shares: an OutOfMemoryError ends the agent at once with exit code 3 instead of leaving a half-dead agent. (The
 * container image and the Debian package under systemd are checked the same way by {@code ContainerPermissionsIT}
 * and {@code ContainerSystemdIT}.)
 */
class LauncherIT {
    @Test
    void anOutOfMemoryErrorEndsTheJvmWithExit3(@TempDir Path store) throws Exception {
        assertThat(Moonwalk.isRoot()).as("the agent loads BPF programs: run as root").isTrue();
        Process target = new ProcessBuilder("sleep", "120").start();
        try {
            Path err = Files.createTempFile(Moonwalk.WORK, "launcher", ".err");
            ProcessBuilder pb = new ProcessBuilder(List.of(Moonwalk.ROOT.resolve("moonwalk").toString(), "agent",
                    "--pid", Long.toString(target.pid()), "--store", "on", "--store-dir", store.toString()))
                    .redirectErrorStream(true).redirectOutput(err.toFile());
            pb.environment().keySet().removeIf(k -> k.startsWith("OTEL_") || k.startsWith("MOONWALK_"));
            pb.environment().put("MOONWALK_NO_BUILD", "1");
            // the test fault fills the heap while the agent syncs its target before attaching
            pb.environment().put("MOONWALK_JAVA_OPTS", "-Dmoonwalk.test.inject-fault=presync:oom:*");
            Process agent = pb.start();
            try {
                assertThat(agent.waitFor(120, TimeUnit.SECONDS)).as("the agent ends").isTrue();
                String log = Files.readString(err);
                System.out.printf("./moonwalk: OutOfMemoryError: exit %d: %s%n", agent.exitValue(), log.lines()
                        .filter(l -> l.contains("OutOfMemoryError")).findFirst().orElse("(none)"));
                assertThat(agent.exitValue()).as(log).isEqualTo(3);
                assertThat(log).contains("Terminating due to java.lang.OutOfMemoryError");
            } finally {
                agent.destroyForcibly();
            }
        } finally {
            target.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
