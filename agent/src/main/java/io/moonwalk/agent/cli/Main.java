package io.moonwalk.agent.cli;

import io.moonwalk.agent.bpf.BpfException;
import io.moonwalk.agent.config.ConfigException;
import io.moonwalk.agent.config.ConfigFile;
import io.moonwalk.agent.config.ConfigLocation;
import io.moonwalk.agent.config.LayeredDefaults;
import io.moonwalk.agent.preflight.PermissionProblem;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Command;

/** Entry point: {@code moonwalk record|agent|stack|bench|version}. */
@Command(name = "moonwalk", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
        description = "Continuous CPU profiler for LuaJIT hosts: kernel, native and Lua stacks from eBPF.",
        subcommands = {RecordCommand.class, AgentCommand.class, StackCommand.class, BenchCommand.class, VersionCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    /** Exit codes (README "Exit codes"; the systemd unit does not restart on 2 and 4). */
    public static final int EXIT_RUNTIME = 1;
    public static final int EXIT_USAGE = 2;
    // 3 is the JVM's own exit code on -XX:+ExitOnOutOfMemoryError (a restart is right then)
    /** The kernel refused the BPF programs (verifier, or a missing feature): the same kernel refuses again. */
    public static final int EXIT_KERNEL_REFUSED = 4;
    /** The environment refuses what profiling needs (capability, seccomp, tracefs, BTF): restarting does not help. */
    public static final int EXIT_PERMISSION = 5;
    // 6: the agent was wedged (LivenessWatchdog.EXIT_WEDGED; a restart is right then)

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        io.moonwalk.agent.log.ConsoleLogging.install();
        CommandLine cli = new CommandLine(new Main());
        cli.setDefaultValueProvider(new EnvironmentDefaults());
        try {
            configureAgent(cli, args, System.getenv());
        } catch (ConfigException e) {
            System.err.println("moonwalk: " + e.getMessage());
            return EXIT_USAGE;
        }
        cli.setParameterExceptionHandler((ex, a) -> {
            System.err.println("moonwalk: " + ex.getMessage() + " (see 'moonwalk "
                    + ex.getCommandLine().getCommandName() + " --help')");
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof UsageProblem) {
                System.err.println("moonwalk: " + ex.getMessage());
                return EXIT_USAGE;
            }
            if (ex instanceof PermissionProblem) {
                System.err.println("moonwalk: " + ex.getMessage());
                return EXIT_PERMISSION;
            }
            System.err.println("moonwalk: " + (ex.getMessage() != null ? ex.getMessage() : ex.toString()));
            if (System.getenv("MOONWALK_DEBUG") != null) {
                ex.printStackTrace();
            }
            return exitCodeOf(ex);
        });
        return cli.execute(args);
    }

    /** {@link #EXIT_KERNEL_REFUSED} if the kernel refused the programs (anywhere in the cause chain), else 1. */
    public static int exitCodeOf(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 32; depth++, t = t.getCause()) {
            if (t instanceof BpfException b && b.kernelRefused()) {
                return EXIT_KERNEL_REFUSED;
            }
        }
        return EXIT_RUNTIME;
    }

    /**
     * The agent's defaults come from the environment, then the config file; the file is found
     * before parsing because its values are defaults for that very parse.
     */
    static void configureAgent(CommandLine cli, String[] args, Map<String, String> env) {
        CommandLine agent = cli.getSubcommands().get("agent");
        boolean[] explicit = new boolean[1];
        Path path = ConfigLocation.find(args, env, explicit);
        ConfigFile file = ConfigFile.empty();
        if (path != null && (explicit[0] || isAgent(args))) {
            Set<String> keys = new TreeSet<>();
            for (OptionSpec o : agent.getCommandSpec().options()) {
                String key = LayeredDefaults.keyOf(o.longestName());
                if (!key.equals("config") && !key.equals("help") && !key.equals("version")) {
                    keys.add(key);
                }
            }
            file = ConfigFile.load(path, keys);
        }
        LayeredDefaults defaults = new LayeredDefaults(env, file);
        agent.setDefaultValueProvider(defaults);
        AgentCommand command = agent.getCommand();
        command.defaults = defaults;
        command.env = env;
    }

    private static boolean isAgent(String[] args) {
        for (String a : args) {
            if (!a.startsWith("-")) {
                return a.equals("agent");
            }
        }
        return false;
    }
}
