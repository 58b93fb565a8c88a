package io.moonwalk.agent.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The agent core names no interpreter: no class the agent module compiles refers to the LuaJIT plugin's packages
 * (checked in each class file's constant pool, where every class, method and field it uses is named), and no source
 * uses the LuaJIT walker's record constants (those are inlined by javac, so the constant pool cannot see them).
 * The plugin is reached only through {@code io.moonwalk.interpreter} and {@link java.util.ServiceLoader}.
 */
@Tag("pure")
class CoreNamesNoInterpreterTest {
    private static final String PLUGIN_PACKAGE = "io/moonwalk/luajit";
    /** LuaJIT-walker constants of the shared record layout and map names. */
    private static final Pattern WALKER_CONSTANTS = Pattern.compile(
            "\\b(?:RecordLayout|BpfMaps)\\.(FRAME_LUA\\w*|LUA_\\w+|STAT_LUA_\\w+|STAT_JIT_\\w+|ERR_LUA_\\w+"
                    + "|EVENT_UNKNOWN_LEAF|MAPPING_LUAJIT|MAP_LUAJIT\\w*|LUAJIT_\\w+)\\b");

    @Test
    void noAgentClassRefersToThePlugin() throws Exception {
        Path classes = Path.of(Session.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertThat(classes).as("the agent's main classes").isDirectory();
        List<Path> files;
        try (Stream<Path> s = Files.walk(classes)) {
            files = s.filter(p -> p.toString().endsWith(".class")).toList();
        }
        assertThat(files).as("agent classes scanned").hasSizeGreaterThan(100);
        List<String> offenders = new ArrayList<>();
        for (Path f : files) {
            for (String ref : pluginReferences(Files.readAllBytes(f))) {
                offenders.add(classes.relativize(f) + " -> " + ref);
            }
        }
        assertThat(offenders).as("agent classes naming the LuaJIT plugin").isEmpty();
    }

    @Test
    void theScanSeesAReferenceWhereThereIsOne() throws IOException, URISyntaxException, ClassNotFoundException {
        // the plugin is on the test class path (runtime scope): its own classes must be flagged
        Class<?> plugin = Class.forName("io.moonwalk.luajit.plugin.LuajitInterpreter");
        byte[] bytes;
        try (var in = plugin.getResourceAsStream("LuajitInterpreter.class")) {
            bytes = in.readAllBytes();
        }
        assertThat(pluginReferences(bytes)).contains("io/moonwalk/luajit/sync/LuajitFiles");
    }

    @Test
    void noAgentSourceUsesTheLuajitWalkerConstants() throws IOException {
        Path sources = Path.of("src/main/java");
        assertThat(sources).as("run from the agent module").isDirectory();
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> s = Files.walk(sources)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
                String text = Files.readString(f);
                Matcher m = WALKER_CONSTANTS.matcher(text);
                while (m.find()) {
                    offenders.add(sources.relativize(f) + ": " + m.group());
                }
            }
        }
        assertThat(offenders).as("agent sources using LuaJIT walker constants").isEmpty();
        assertThat(WALKER_CONSTANTS.matcher("x = RecordLayout.FRAME_LUA_JIT;").find()).as("the pattern works").isTrue();
    }

    /** Constant-pool strings of a class file that name something in the plugin's packages. */
    private static List<String> pluginReferences(byte[] classFile) {
        List<String> refs = new ArrayList<>();
        for (PoolEntry e : ClassFile.of().parse(classFile).constantPool()) {
            if (e instanceof Utf8Entry u) {
                String s = u.stringValue();
                if (s.contains(PLUGIN_PACKAGE) || s.contains(PLUGIN_PACKAGE.replace('/', '.'))) {
                    refs.add(s);
                }
            }
        }
        return refs;
    }
}
