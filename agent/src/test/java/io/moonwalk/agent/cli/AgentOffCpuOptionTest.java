package io.moonwalk.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.config.ConfigFile;
import io.moonwalk.agent.config.LayeredDefaults;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** {@code agent --off-cpu [MIN]} from the command line, the environment and the config file, as Main wires them. */
@Tag("pure")
class AgentOffCpuOptionTest {
    private static AgentCommand parse(Map<String, String> env, String conf, String... args) {
        AgentCommand c = new AgentCommand();
        CommandLine cl = new CommandLine(c);
        Set<String> keys = new TreeSet<>();
        for (OptionSpec o : cl.getCommandSpec().options()) {
            keys.add(LayeredDefaults.keyOf(o.longestName()));
        }
        try {
            Path file = java.nio.file.Files.createTempFile("moonwalk", ".conf");
            java.nio.file.Files.writeString(file, conf);
            cl.setDefaultValueProvider(new LayeredDefaults(env, ConfigFile.load(file, keys)));
            java.nio.file.Files.delete(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        cl.parseArgs(args);
        return c;
    }

    @Test
    void offUnlessAskedForWithOneMillisecondWhenGivenWithoutAValue() {
        assertThat(parse(Map.of(), "").events.offCpu).isNull();
        assertThat(parse(Map.of(), "", "--off-cpu").events.offCpu).isEqualTo(Duration.ofMillis(1));
        AgentCommand next = parse(Map.of(), "", "--off-cpu", "--hz", "99");
        assertThat(next.events.offCpu).isEqualTo(Duration.ofMillis(1));
        assertThat(next.hz).isEqualTo(99);
        assertThat(parse(Map.of(), "", "--off-cpu", "250us").events.offCpu).isEqualTo(Duration.ofNanos(250_000));
    }

    @Test
    void configFileAndEnvironmentTurnItOnFlagWins() {
        assertThat(parse(Map.of(), "off-cpu = 2ms\n").events.offCpu).isEqualTo(Duration.ofMillis(2));
        assertThat(parse(Map.of("MOONWALK_OFF_CPU", "3ms"), "off-cpu = 2ms\n").events.offCpu).isEqualTo(Duration.ofMillis(3));
        assertThat(parse(Map.of("MOONWALK_OFF_CPU", "3ms"), "off-cpu = 2ms\n", "--off-cpu", "5ms").events.offCpu)
                .isEqualTo(Duration.ofMillis(5));
    }
}
