package io.moonwalk.agent.output;

import com.google.perftools.profiles.ProfileProto;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.frame.FrameKind;

import java.io.IOException;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * gzip-compressed pprof ({@code perftools.profiles.Profile}), rendered from the frames' fields.
 *
 * <p>How frames map onto pprof:
 * <ul>
 *   <li>One location per distinct frame; ids start at 1. Native and kernel locations carry their
 *       {@code address} (for a native caller the byte before the return address, inside the call) and
 *       the mapping it lies in; interpreted (Lua) and error locations have address 0 and no mapping.</li>
 *   <li>A location whose function is known has one line: Lua frames carry function {@code name} (e.g.
 *       {@code fib}), {@code filename} (the chunk, e.g. {@code /srv/app.lua} or
 *       {@code content_by_lua(nginx.conf:12)}), {@code start_line} (where the function is defined) and
 *       {@code Line.line} (the current line). Native and kernel frames carry the symbol. An unresolved
 *       native or kernel address has no line at all, so pprof (and a backend) can symbolize it from the
 *       mapping.</li>
 *   <li>{@code system_name} is the name plus the kind suffix of the folded labels ({@code _[k]} kernel,
 *       {@code _[j]} Lua run in a JIT trace): the same Lua function interpreted and compiled shares its
 *       {@code name}, stays two functions, and tools that read system names can tell them apart.</li>
 *   <li>Mappings: one per mapped file range (native: the process's mapping with its {@code memory_start},
 *       {@code memory_limit}, {@code file_offset}, path and GNU {@code build_id}; kernel:
 *       {@code [kernel.kallsyms]} or {@code [module]} over its symbols' extent with the kernel's build id).
 *       {@code has_functions} is set when every location in the mapping has a function.</li>
 *   <li>Samples are leaf first, with labels {@code pid} (num), {@code process}, {@code thread}
 *       and the entry's own labels (str, sorted by key).</li>
 * </ul>
 */
public final class PprofWriter implements ProfileWriter {

    @Override
    public void write(Profile profile, OutputStream out) throws IOException {
        GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16);
        toProto(profile).writeTo(gz);
        gz.finish();
        gz.flush();
    }

    /** The uncompressed pprof message for {@code profile}. */
    public static ProfileProto.Profile toProto(Profile profile) {
        return new Builder(profile.periodNanos()).build(profile);
    }

    private static final class Builder {
        private final ProfileProto.Profile.Builder out = ProfileProto.Profile.newBuilder();
        private final Map<String, Long> strings = new HashMap<>();
        private final Map<CodeMapping, ProfileProto.Mapping.Builder> mappings = new LinkedHashMap<>();
        private final Map<FunctionKey, Long> functions = new HashMap<>();
        private final Map<Frame, Long> locations = new HashMap<>();
        private final long period;

        private record FunctionKey(String name, String systemName, String fileName, long startLine) {
        }

        Builder(long period) {
            this.period = period;
            string("");
        }

        ProfileProto.Profile build(Profile profile) {
            SampleType type = profile.sampleType();
            boolean periodic = type.periodic();
            out.addSampleType(valueType(type.type(), type.unit()));
            if (periodic) {
                // sampled CPU time also as nanoseconds (count x period), as perf and Go's profiles give it
                out.addSampleType(valueType("cpu", "nanoseconds"));
                out.setPeriodType(valueType("cpu", "nanoseconds"));
                out.setPeriod(profile.periodNanos());
            }
            out.setTimeNanos(profile.startEpochNanos());
            out.setDurationNanos(profile.durationNanos());
            out.addComment(string("moonwalk"));
            long pidKey = string("pid");
            long processKey = string("process");
            long threadKey = string("thread");
            for (Profile.Entry e : profile.entries()) {
                if (e.count() < 0) {
                    throw new IllegalArgumentException("negative sample count " + e.count()
                            + " for process " + e.process().pid() + " (" + e.process().command() + ")");
                }
                if (e.count() == 0) {
                    continue;
                }
                ProfileProto.Sample.Builder s = ProfileProto.Sample.newBuilder();
                List<Frame> frames = e.frames();
                for (int i = frames.size() - 1; i >= 0; i--) {
                    s.addLocationId(location(frames.get(i)));
                }
                s.addValue(e.count());
                if (periodic) {
                    s.addValue(Math.multiplyExact(e.count(), period));
                }
                s.addLabel(ProfileProto.Label.newBuilder().setKey(pidKey).setNum(e.process().pid()));
                s.addLabel(strLabel(processKey, e.process().command()));
                s.addLabel(strLabel(threadKey, e.threadName()));
                if (!e.process().containerId().isEmpty()) {
                    s.addLabel(strLabel(string("container.id"), e.process().containerId()));
                }
                for (Map.Entry<String, String> l : new TreeMap<>(e.labels()).entrySet()) {
                    s.addLabel(strLabel(string(l.getKey()), l.getValue()));
                }
                out.addSample(s);
            }
            for (ProfileProto.Mapping.Builder m : mappings.values()) {
                out.addMapping(m);
            }
            return out.build();
        }

        private ProfileProto.Label.Builder strLabel(long key, String value) {
            return ProfileProto.Label.newBuilder().setKey(key).setStr(string(value));
        }

        private ProfileProto.ValueType valueType(String type, String unit) {
            return ProfileProto.ValueType.newBuilder().setType(string(type)).setUnit(string(unit)).build();
        }

        private long string(String s) {
            Long index = strings.get(s);
            if (index == null) {
                index = (long) strings.size();
                strings.put(s, index);
                out.addStringTable(s);
            }
            return index;
        }

        private long location(Frame frame) {
            Long id = locations.get(frame);
            if (id != null) {
                return id;
            }
            id = (long) locations.size() + 1;
            locations.put(frame, id);
            ProfileProto.Location.Builder loc = ProfileProto.Location.newBuilder().setId(id).setAddress(frame.address());
            boolean addressOnly = !frame.hasFunction()
                    && (frame.kind() == FrameKind.NATIVE || frame.kind() == FrameKind.KERNEL);
            if (!addressOnly) {
                // pprof viewers show an empty name as nothing at all; say what it is instead.
                String name = frame.hasFunction() ? frame.function() : "[unknown]";
                String systemName = switch (frame.kind()) {
                    case KERNEL -> name + "_[k]";
                    case INTERPRETED -> frame.inlined() ? name + "_[i]" : frame.jit() ? name + "_[j]" : name;
                    default -> name;
                };
                long functionId = function(new FunctionKey(name, systemName, frame.file(), frame.startLine()));
                loc.addLine(ProfileProto.Line.newBuilder().setFunctionId(functionId).setLine(Math.max(frame.line(), 0)));
            }
            if (!frame.mapping().isNone()) {
                ProfileProto.Mapping.Builder m = mapping(frame.mapping());
                loc.setMappingId(m.getId());
                if (addressOnly) {
                    m.setHasFunctions(false);
                }
            }
            out.addLocation(loc);
            return id;
        }

        private long function(FunctionKey key) {
            Long id = functions.get(key);
            if (id == null) {
                id = (long) functions.size() + 1;
                functions.put(key, id);
                out.addFunction(ProfileProto.Function.newBuilder()
                        .setId(id)
                        .setName(string(key.name()))
                        .setSystemName(string(key.systemName()))
                        .setFilename(string(key.fileName()))
                        .setStartLine(key.startLine()));
            }
            return id;
        }

        private ProfileProto.Mapping.Builder mapping(CodeMapping m) {
            ProfileProto.Mapping.Builder b = mappings.get(m);
            if (b == null) {
                b = ProfileProto.Mapping.newBuilder()
                        .setId(mappings.size() + 1)
                        .setMemoryStart(m.start())
                        .setMemoryLimit(m.limit())
                        .setFileOffset(m.offset())
                        .setFilename(string(m.file()))
                        .setBuildId(string(m.gnuBuildId()))
                        .setHasFunctions(true);
                mappings.put(m, b);
            }
            return b;
        }
    }
}
