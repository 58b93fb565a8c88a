package io.moonwalk.agent.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code moonwalk record|version}. */
@Command(name = "moonwalk", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
        description = "Continuous CPU profiler for LuaJIT hosts: kernel, native and Lua stacks from eBPF.",
        subcommands = {RecordCommand.class, BenchCommand.class, VersionCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    public static final int EXIT_RUNTIME = 1;
    public static final int EXIT_USAGE = 2;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        io.moonwalk.agent.log.ConsoleLogging.install();
        CommandLine cli = new CommandLine(new Main());
        cli.setDefaultValueProvider(new EnvironmentDefaults());
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
            System.err.println("moonwalk: " + (ex.getMessage() != null ? ex.getMessage() : ex.toString()));
            if (System.getenv("MOONWALK_DEBUG") != null) {
                ex.printStackTrace();
            }
            return EXIT_RUNTIME;
        });
        return cli.execute(args);
    }
}
