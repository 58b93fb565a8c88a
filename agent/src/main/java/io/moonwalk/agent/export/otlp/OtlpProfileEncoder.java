package io.moonwalk.agent.export.otlp;

import io.moonwalk.agent.profile.Frame;
import io.moonwalk.agent.profile.FrameKind;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.profiles.v1development.Function;
import io.opentelemetry.proto.profiles.v1development.Line;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.Mapping;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;
import io.opentelemetry.proto.profiles.v1development.Sample;
import io.opentelemetry.proto.profiles.v1development.ScopeProfiles;
import io.opentelemetry.proto.profiles.v1development.Stack;
import io.opentelemetry.proto.profiles.v1development.ValueType;
import io.opentelemetry.proto.resource.v1.Resource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Turns a {@link Profile} into an OTLP {@code profiles/v1development} export request (proto 1.10+/1.11
 * shape): one {@code ProfilesDictionary} shared by the whole request, one {@code ResourceProfiles}
 * per process, one scope {@value #SCOPE_NAME}, one CPU profile per process.
 *
 * <p>Choices worth knowing:
 * <ul>
 *   <li>Samples carry one aggregated value ({@code samples}/{@code count}) rather than one timestamp
 *       per event: the agent aggregates per window, and the proto allows that shape.</li>
 *   <li>Frames are symbolized in the agent, so every location has a {@code Line} whose function is the
 *       frame name; addresses are not known to the model and stay 0.</li>
 *   <li>Lua frames (interpreted and JIT-compiled) have {@code profile.frame.type=luajit}; compiled ones
 *       also carry {@code luajit.compiled=true} so the distinction survives. Error frames use
 *       {@code abort-marker}, the value the OpenTelemetry eBPF profiler uses for a truncated unwind.</li>
 *   <li>Entries without frames or with a non-positive count are skipped and counted
 *       ({@link #skippedEntries()}): the proto forbids empty stacks.</li>
 *   <li>Attribute values are plain strings, not {@code string_value_strindex}, so receivers older than
 *       proto 1.10 still read them.</li>
 * </ul>
 *
 * <p>Thread-safe: each {@link #encode} call builds its own dictionary; the only shared state is a counter.
 */
public final class OtlpProfileEncoder {

    public static final String SCOPE_NAME = "moonwalk";
    /** Semantic conventions version the attribute names follow. */
    public static final String SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0";

    static final String FRAME_TYPE = "profile.frame.type";
    static final String LUAJIT_COMPILED = "luajit.compiled";
    static final String BUILD_ID = "process.executable.build_id.gnu";
    static final String THREAD_NAME = "thread.name";

    private final List<KeyValue> baseResource;
    private final String scopeVersion;
    private final java.util.function.Function<String, String> buildIdForModule;
    private final AtomicLong skippedEntries = new AtomicLong();

    /**
     * @param hostName           value of {@code host.name} on every resource
     * @param resourceAttributes extra resource attributes (e.g. {@link OtlpConfig#resourceAttributes()});
     *                           process attributes win over these on a key clash
     * @param scopeVersion       the agent version reported as the instrumentation scope version
     * @param buildIdForModule   GNU build id (hex) of a module path, or null/empty when unknown
     */
    public OtlpProfileEncoder(String hostName, Map<String, String> resourceAttributes, String scopeVersion,
                              java.util.function.Function<String, String> buildIdForModule) {
        Objects.requireNonNull(hostName, "hostName");
        Objects.requireNonNull(scopeVersion, "scopeVersion");
        this.buildIdForModule = Objects.requireNonNull(buildIdForModule, "buildIdForModule");
        Map<String, String> base = new LinkedHashMap<>(resourceAttributes);
        base.put("host.name", hostName);
        List<KeyValue> kvs = new ArrayList<>();
        base.forEach((k, v) -> kvs.add(keyValue(k, stringValue(v))));
        this.baseResource = List.copyOf(kvs);
        this.scopeVersion = scopeVersion;
    }

    /** An encoder without build ids. */
    public OtlpProfileEncoder(String hostName, Map<String, String> resourceAttributes, String scopeVersion) {
        this(hostName, resourceAttributes, scopeVersion, module -> null);
    }

    /** Entries dropped because they had no frames or no samples, since construction. */
    public long skippedEntries() {
        return skippedEntries.get();
    }

    public ExportProfilesServiceRequest encode(Profile profile) {
        DictionaryBuilder dict = new DictionaryBuilder();
        ValueType sampleType = ValueType.newBuilder()
                .setTypeStrindex(dict.string("samples")).setUnitStrindex(dict.string("count")).build();
        ValueType periodType = ValueType.newBuilder()
                .setTypeStrindex(dict.string("cpu")).setUnitStrindex(dict.string("nanoseconds")).build();

        // Per process, samples keyed by their OTLP identity (stack, attribute set) so equal entries merge.
        Map<ProcessIdentity, Map<SampleKey, long[]>> byProcess = new LinkedHashMap<>();
        Map<String, Integer> mappingByModule = new HashMap<>();
        for (Profile.Entry e : profile.entries()) {
            if (e.frames().isEmpty() || e.count() <= 0) {
                skippedEntries.incrementAndGet();
                continue;
            }
            int stack = dict.stack(stackOf(e.frames(), dict, mappingByModule));
            int[] attrs = sampleAttributes(e, dict);
            byProcess.computeIfAbsent(e.process(), p -> new LinkedHashMap<>())
                    .computeIfAbsent(new SampleKey(stack, attrs), k -> new long[1])[0] += e.count();
        }

        ExportProfilesServiceRequest.Builder req = ExportProfilesServiceRequest.newBuilder();
        InstrumentationScope scope = InstrumentationScope.newBuilder()
                .setName(SCOPE_NAME).setVersion(scopeVersion).build();
        for (var proc : byProcess.entrySet()) {
            io.opentelemetry.proto.profiles.v1development.Profile.Builder p =
                    io.opentelemetry.proto.profiles.v1development.Profile.newBuilder()
                            .setSampleType(sampleType)
                            .setPeriodType(periodType)
                            .setPeriod(profile.periodNanos())
                            .setTimeUnixNano(profile.startEpochNanos())
                            .setDurationNano(profile.durationNanos());
            for (var s : proc.getValue().entrySet()) {
                Sample.Builder sample = Sample.newBuilder().setStackIndex(s.getKey().stack()).addValues(s.getValue()[0]);
                for (int a : s.getKey().attributes()) {
                    sample.addAttributeIndices(a);
                }
                p.addSamples(sample);
            }
            req.addResourceProfiles(ResourceProfiles.newBuilder()
                    .setResource(resourceOf(proc.getKey()))
                    .setSchemaUrl(SCHEMA_URL)
                    .addScopeProfiles(ScopeProfiles.newBuilder().setScope(scope).setSchemaUrl(SCHEMA_URL).addProfiles(p)));
        }
        return req.setDictionary(dict.build()).build();
    }

    /** OTLP stacks are leaf first; the model is root first. */
    private Stack stackOf(List<Frame> frames, DictionaryBuilder dict, Map<String, Integer> mappingByModule) {
        Stack.Builder s = Stack.newBuilder();
        for (int i = frames.size() - 1; i >= 0; i--) {
            s.addLocationIndices(dict.location(locationOf(frames.get(i), dict, mappingByModule)));
        }
        return s.build();
    }

    private Location locationOf(Frame f, DictionaryBuilder dict, Map<String, Integer> mappingByModule) {
        // A function needs at least one non-empty name field; an unnamed frame still deserves a visible name.
        String name = f.name().isEmpty() ? "[unknown]" : f.name();
        int function = dict.function(Function.newBuilder().setNameStrindex(dict.string(name)).build());
        Location.Builder l = Location.newBuilder()
                .setMappingIndex(mappingOf(f.module(), dict, mappingByModule))
                .addLines(Line.newBuilder().setFunctionIndex(function))
                .addAttributeIndices(dict.stringAttribute(FRAME_TYPE, frameType(f.kind())));
        if (f.kind() == FrameKind.LUA_JIT) {
            l.addAttributeIndices(dict.attribute(LUAJIT_COMPILED, AnyValue.newBuilder().setBoolValue(true).build()));
        }
        return l.build();
    }

    private int mappingOf(String module, DictionaryBuilder dict, Map<String, Integer> mappingByModule) {
        if (module.isEmpty()) {
            return 0;
        }
        Integer known = mappingByModule.get(module);
        if (known != null) {
            return known;
        }
        Mapping.Builder m = Mapping.newBuilder().setFilenameStrindex(dict.string(module));
        String buildId = buildIdForModule.apply(module);
        if (buildId != null && !buildId.isEmpty()) {
            m.addAttributeIndices(dict.stringAttribute(BUILD_ID, buildId));
        }
        int index = dict.mapping(m.build());
        mappingByModule.put(module, index);
        return index;
    }

    static String frameType(FrameKind kind) {
        return switch (kind) {
            case KERNEL -> "kernel";
            case NATIVE -> "native";
            case LUA, LUA_JIT -> "luajit";
            case ERROR -> "abort-marker";
        };
    }

    private static int[] sampleAttributes(Profile.Entry e, DictionaryBuilder dict) {
        // Keys must be unique within one sample; a label can never shadow the thread name.
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put(THREAD_NAME, e.threadName());
        for (var label : e.labels().entrySet()) {
            if (!label.getKey().isEmpty()) {
                attrs.putIfAbsent(label.getKey(), label.getValue());
            }
        }
        int[] out = new int[attrs.size()];
        int i = 0;
        for (var a : attrs.entrySet()) {
            out[i++] = dict.stringAttribute(a.getKey(), a.getValue());
        }
        // The identity is a set: order must not split one sample into two.
        java.util.Arrays.sort(out);
        return out;
    }

    private Resource resourceOf(ProcessIdentity p) {
        Map<String, AnyValue> attrs = new LinkedHashMap<>();
        for (KeyValue kv : baseResource) {
            attrs.put(kv.getKey(), kv.getValue());
        }
        attrs.put("process.pid", AnyValue.newBuilder().setIntValue(p.pid()).build());
        String exe = p.executable() == null ? "" : p.executable();
        String exeName = exe.isEmpty() ? p.command() : exe.substring(exe.lastIndexOf('/') + 1);
        if (exeName != null && !exeName.isEmpty()) {
            attrs.put("process.executable.name", stringValue(exeName));
        }
        if (!exe.isEmpty()) {
            attrs.put("process.executable.path", stringValue(exe));
        }
        if (p.containerId() != null && !p.containerId().isEmpty()) {
            attrs.put("container.id", stringValue(p.containerId()));
        }
        Resource.Builder r = Resource.newBuilder();
        attrs.forEach((k, v) -> r.addAttributes(keyValue(k, v)));
        return r.build();
    }

    private static KeyValue keyValue(String key, AnyValue value) {
        return KeyValue.newBuilder().setKey(key).setValue(value).build();
    }

    private static AnyValue stringValue(String v) {
        return AnyValue.newBuilder().setStringValue(v).build();
    }

    private record SampleKey(int stack, int[] attributes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof SampleKey k && k.stack == stack && java.util.Arrays.equals(k.attributes, attributes);
        }

        @Override
        public int hashCode() {
            return 31 * stack + java.util.Arrays.hashCode(attributes);
        }
    }
}
