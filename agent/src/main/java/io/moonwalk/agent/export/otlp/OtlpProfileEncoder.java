package io.moonwalk.agent.export.otlp;

import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.frame.FrameKind;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
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
import java.util.Set;
import java.util.regex.Pattern;
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
 *   <li>Locations are rendered from the frames' fields. A Lua frame's {@code Function} has the function
 *       name ({@code fib}), {@code filename_strindex} the chunk ({@code /srv/app.lua},
 *       {@code content_by_lua(nginx.conf:12)}) and {@code start_line} the line it is defined at; its
 *       {@code Line.line} is the current line, so one function is one function however many lines are
 *       sampled. Native and kernel locations carry their {@code address} (a native caller's is the byte
 *       before its return address) and a {@code Mapping} with {@code memory_start}/{@code memory_limit}/
 *       {@code file_offset}, the path, {@value #BUILD_ID} and {@value #HTL_HASH}; an address without a symbol has no line, for
 *       the backend to symbolize.</li>
 *   <li>Lua frames (interpreted and JIT-compiled) have {@code profile.frame.type=luajit} (what the other
 *       LuaJIT producer sends; {@code luajit} is not a registered value, so a frame-type override — e.g.
 *       {@code luajit=native} — is offered for backends that reject unknown types); compiled ones also carry
 *       {@code luajit.compiled=true} so the distinction survives. Error frames use {@code abort-marker}, the
 *       value the OpenTelemetry eBPF profiler uses for a truncated unwind.</li>
 *   <li>Resources: {@code service.name} (configured, else {@code unknown_service:<executable name>} as the
 *       SDKs default it), {@code process.pid}, {@code process.executable.name}/{@code .path} only when the
 *       executable is known (a kernel thread has none; its thread name is no executable name).</li>
 *   <li>Sample labels named as integer-valued ({@code luajit.trace}) are sent as int attributes when their
 *       value is a decimal number.</li>
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
    /** {@code <runtime>.compiled = true} marks an interpreted frame run inside compiled code. */
    static final String COMPILED_SUFFIX = ".compiled";
    /** Location attribute {@code luajit.inlined}: a compiled frame the compiler inlined into its caller's code. */
    static final String INLINED_SUFFIX = ".inlined";
    static final String SERVICE_NAME = "service.name";
    static final String BUILD_ID = "process.executable.build_id.gnu";
    /** The profiles spec recommends this one on every mapping: it exists for stripped files too. */
    static final String HTL_HASH = "process.executable.build_id.htlhash";
    static final String THREAD_NAME = "thread.name";

    private final List<KeyValue> baseResource;
    private final String scopeVersion;
    private final Map<String, String> frameTypes;
    private final Set<String> integerLabels;
    private final AtomicLong skippedEntries = new AtomicLong();

    /** What {@code profile.frame.type} a runtime's frames get unless overridden: the runtime's own name. */
    public static final Pattern FRAME_TYPE_VALUE = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,31}");

    /**
     * @param hostName           value of {@code host.name} on every resource
     * @param resourceAttributes extra resource attributes (e.g. {@link OtlpConfig#resourceAttributes()});
     *                           process attributes win over these on a key clash
     * @param scopeVersion       the agent version reported as the instrumentation scope version
     * @param frameTypes         {@code profile.frame.type} sent for an interpreted frame's runtime instead of
     *                           the runtime's name (e.g. {@code luajit -> native}); each value must match
     *                           {@link #FRAME_TYPE_VALUE}
     * @param integerLabels      sample label keys whose decimal values are sent as int attributes
     */
    public OtlpProfileEncoder(String hostName, Map<String, String> resourceAttributes, String scopeVersion,
                              Map<String, String> frameTypes, Set<String> integerLabels) {
        Objects.requireNonNull(hostName, "hostName");
        Objects.requireNonNull(scopeVersion, "scopeVersion");
        for (var t : frameTypes.entrySet()) {
            if (!FRAME_TYPE_VALUE.matcher(t.getValue()).matches()) {
                throw new IllegalArgumentException("profile.frame.type for " + t.getKey() + " must match "
                        + FRAME_TYPE_VALUE + ", got '" + t.getValue() + "'");
            }
        }
        this.frameTypes = Map.copyOf(frameTypes);
        this.integerLabels = Set.copyOf(integerLabels);
        Map<String, String> base = new LinkedHashMap<>(resourceAttributes);
        base.put("host.name", hostName);
        List<KeyValue> kvs = new ArrayList<>();
        base.forEach((k, v) -> kvs.add(keyValue(k, stringValue(v))));
        this.baseResource = List.copyOf(kvs);
        this.scopeVersion = scopeVersion;
    }

    /** An encoder with the runtimes' own frame types and no integer labels. */
    public OtlpProfileEncoder(String hostName, Map<String, String> resourceAttributes, String scopeVersion) {
        this(hostName, resourceAttributes, scopeVersion, Map.of(), Set.of());
    }

    /** Entries dropped because they had no frames or no samples, since construction. */
    public long skippedEntries() {
        return skippedEntries.get();
    }

    public ExportProfilesServiceRequest encode(Profile profile) {
        return encode(List.of(profile));
    }

    /**
     * One request for the profiles of one window (the CPU profile and, with {@code --off-cpu}, the off-CPU one):
     * per process one resource whose scope holds one OTLP profile per sample type the process has samples of, all
     * sharing the request's dictionary.
     */
    public ExportProfilesServiceRequest encode(List<Profile> profiles) {
        DictionaryBuilder dict = new DictionaryBuilder();
        ValueType periodType = ValueType.newBuilder()
                .setTypeStrindex(dict.string("cpu")).setUnitStrindex(dict.string("nanoseconds")).build();
        // Per process and profile, samples keyed by their OTLP identity (stack, attribute set) so equal entries merge.
        Map<ProcessIdentity, List<Map<SampleKey, long[]>>> byProcess = new LinkedHashMap<>();
        Map<CodeMapping, Integer> mappingIndex = new HashMap<>();
        for (int i = 0; i < profiles.size(); i++) {
            int which = i;
            for (Profile.Entry e : profiles.get(i).entries()) {
                if (e.frames().isEmpty() || e.count() <= 0) {
                    skippedEntries.incrementAndGet();
                    continue;
                }
                int stack = dict.stack(stackOf(e.frames(), dict, mappingIndex));
                int[] attrs = sampleAttributes(e, dict);
                List<Map<SampleKey, long[]>> perProfile = byProcess.computeIfAbsent(e.process(), p -> {
                    List<Map<SampleKey, long[]>> l = new ArrayList<>(profiles.size());
                    for (int k = 0; k < profiles.size(); k++) {
                        l.add(new LinkedHashMap<>());
                    }
                    return l;
                });
                perProfile.get(which).computeIfAbsent(new SampleKey(stack, attrs), k -> new long[1])[0] += e.count();
            }
        }

        ExportProfilesServiceRequest.Builder req = ExportProfilesServiceRequest.newBuilder();
        InstrumentationScope scope = InstrumentationScope.newBuilder()
                .setName(SCOPE_NAME).setVersion(scopeVersion).build();
        for (var proc : byProcess.entrySet()) {
            ScopeProfiles.Builder scoped = ScopeProfiles.newBuilder().setScope(scope).setSchemaUrl(SCHEMA_URL);
            for (int i = 0; i < profiles.size(); i++) {
                Map<SampleKey, long[]> samples = proc.getValue().get(i);
                if (samples.isEmpty()) {
                    continue;
                }
                Profile profile = profiles.get(i);
                ValueType sampleType = ValueType.newBuilder().setTypeStrindex(dict.string(profile.sampleType().type()))
                        .setUnitStrindex(dict.string(profile.sampleType().unit())).build();
                io.opentelemetry.proto.profiles.v1development.Profile.Builder p =
                        io.opentelemetry.proto.profiles.v1development.Profile.newBuilder()
                                .setSampleType(sampleType)
                                .setTimeUnixNano(profile.startEpochNanos())
                                .setDurationNano(profile.durationNanos());
                if (profile.sampleType().periodic()) {
                    p.setPeriodType(periodType).setPeriod(profile.periodNanos());
                }
                for (var s : samples.entrySet()) {
                    Sample.Builder sample = Sample.newBuilder().setStackIndex(s.getKey().stack()).addValues(s.getValue()[0]);
                    for (int a : s.getKey().attributes()) {
                        sample.addAttributeIndices(a);
                    }
                    p.addSamples(sample);
                }
                scoped.addProfiles(p);
            }
            req.addResourceProfiles(ResourceProfiles.newBuilder()
                    .setResource(resourceOf(proc.getKey()))
                    .setSchemaUrl(SCHEMA_URL)
                    .addScopeProfiles(scoped));
        }
        return req.setDictionary(dict.build()).build();
    }

    /** OTLP stacks are leaf first; the model is root first. */
    private Stack stackOf(List<Frame> frames, DictionaryBuilder dict, Map<CodeMapping, Integer> mappingIndex) {
        Stack.Builder s = Stack.newBuilder();
        for (int i = frames.size() - 1; i >= 0; i--) {
            s.addLocationIndices(dict.location(locationOf(frames.get(i), dict, mappingIndex)));
        }
        return s.build();
    }

    private Location locationOf(Frame f, DictionaryBuilder dict, Map<CodeMapping, Integer> mappingIndex) {
        Location.Builder l = Location.newBuilder()
                .setMappingIndex(mappingOf(f.mapping(), dict, mappingIndex))
                .setAddress(f.address())
                .addAttributeIndices(dict.stringAttribute(FRAME_TYPE, frameType(f)));
        boolean addressOnly = !f.hasFunction() && (f.kind() == FrameKind.NATIVE || f.kind() == FrameKind.KERNEL);
        if (!addressOnly) {
            // A function needs at least one non-empty name field; an unnamed frame still deserves a visible name.
            io.opentelemetry.proto.profiles.v1development.Function.Builder fn =
                    io.opentelemetry.proto.profiles.v1development.Function.newBuilder()
                            .setNameStrindex(dict.string(f.hasFunction() ? f.function() : "[unknown]"))
                            .setFilenameStrindex(dict.string(f.file()))
                            .setStartLine(f.startLine());
            l.addLines(Line.newBuilder().setFunctionIndex(dict.function(fn.build())).setLine(Math.max(f.line(), 0)));
        }
        if (f.jit()) {
            l.addAttributeIndices(dict.attribute(f.runtime() + COMPILED_SUFFIX,
                    AnyValue.newBuilder().setBoolValue(true).build()));
        }
        if (f.inlined()) {
            l.addAttributeIndices(dict.attribute(f.runtime() + INLINED_SUFFIX,
                    AnyValue.newBuilder().setBoolValue(true).build()));
        }
        return l.build();
    }

    private static int mappingOf(CodeMapping m, DictionaryBuilder dict, Map<CodeMapping, Integer> mappingIndex) {
        if (m.isNone()) {
            return 0;
        }
        Integer known = mappingIndex.get(m);
        if (known != null) {
            return known;
        }
        Mapping.Builder b = Mapping.newBuilder()
                .setMemoryStart(m.start())
                .setMemoryLimit(m.limit())
                .setFileOffset(m.offset())
                .setFilenameStrindex(dict.string(m.file()));
        if (!m.gnuBuildId().isEmpty()) {
            b.addAttributeIndices(dict.stringAttribute(BUILD_ID, m.gnuBuildId()));
        }
        if (!m.htlHash().isEmpty()) {
            b.addAttributeIndices(dict.stringAttribute(HTL_HASH, m.htlHash()));
        }
        int index = dict.mapping(b.build());
        mappingIndex.put(m, index);
        return index;
    }

    String frameType(Frame f) {
        return switch (f.kind()) {
            case KERNEL -> "kernel";
            case NATIVE -> "native";
            case INTERPRETED -> frameTypes.getOrDefault(f.runtime(), f.runtime().isEmpty() ? "interpreted" : f.runtime());
            case ERROR -> "abort-marker";
        };
    }

    private int[] sampleAttributes(Profile.Entry e, DictionaryBuilder dict) {
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
            long number = integerLabels.contains(a.getKey()) ? decimal(a.getValue()) : -1;
            out[i++] = number >= 0 ? dict.attribute(a.getKey(), AnyValue.newBuilder().setIntValue(number).build())
                    : dict.stringAttribute(a.getKey(), a.getValue());
        }
        // The identity is a set: order must not split one sample into two.
        java.util.Arrays.sort(out);
        return out;
    }

    /** The value of a non-negative decimal of at most 18 digits, else -1 (then sent as the string it is). */
    private static long decimal(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private Resource resourceOf(ProcessIdentity p) {
        Map<String, AnyValue> attrs = new LinkedHashMap<>();
        for (KeyValue kv : baseResource) {
            attrs.put(kv.getKey(), kv.getValue());
        }
        attrs.put("process.pid", AnyValue.newBuilder().setIntValue(p.pid()).build());
        // Only a known executable names one: a kernel thread (or a process whose exe could not be read) has none,
        // and its thread name is not an executable name.
        String exe = p.executable() == null ? "" : p.executable();
        String exeName = exe.substring(exe.lastIndexOf('/') + 1);
        if (!exe.isEmpty()) {
            attrs.put("process.executable.name", stringValue(exeName));
            attrs.put("process.executable.path", stringValue(exe));
        }
        if (!attrs.containsKey(SERVICE_NAME)) {
            attrs.put(SERVICE_NAME, stringValue(exeName.isEmpty() ? "unknown_service" : "unknown_service:" + exeName));
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
