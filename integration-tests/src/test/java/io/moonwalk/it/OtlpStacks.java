package io.moonwalk.it;

import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.profiles.v1development.Function;
import io.opentelemetry.proto.profiles.v1development.KeyValueAndUnit;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.Mapping;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;
import io.opentelemetry.proto.profiles.v1development.Sample;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes received requests the way a receiver would, through the dictionary only: per process the
 * stacks as folded text (root first, kernel frames {@code _[k]}, compiled Lua {@code _[j]}, inlined {@code _[i]}, as
 * {@code record} labels them) with their counts.
 */
final class OtlpStacks {
    private OtlpStacks() {
    }

    static Map<String, AnyValue> resource(ResourceProfiles rp) {
        Map<String, AnyValue> m = new HashMap<>();
        for (KeyValue kv : rp.getResource().getAttributesList()) {
            m.put(kv.getKey(), kv.getValue());
        }
        return m;
    }

    static Map<String, String> sampleAttributes(ProfilesDictionary d, Sample s) {
        Map<String, String> m = new HashMap<>();
        for (int a : s.getAttributeIndicesList()) {
            KeyValueAndUnit kv = d.getAttributeTable(a);
            AnyValue v = kv.getValue();
            m.put(d.getStringTable(kv.getKeyStrindex()), v.hasIntValue() ? Long.toString(v.getIntValue())
                    : v.getStringValue());
        }
        return m;
    }

    /** Folded stack text to count, for the samples of {@code pid}. */
    static Map<String, Long> stacksOf(List<ExportProfilesServiceRequest> requests, long pid) {
        return stacksOf(requests, pid, null);
    }

    /**
     * As {@link #stacksOf(List, long)}, only from the profiles whose sample type is {@code type} (e.g. {@code off_cpu};
     * null: every profile).
     */
    static Map<String, Long> stacksOf(List<ExportProfilesServiceRequest> requests, long pid, String type) {
        Map<String, Long> out = new HashMap<>();
        for (ExportProfilesServiceRequest req : requests) {
            ProfilesDictionary d = req.getDictionary();
            for (Sample s : samplesOf(req, pid, type)) {
                List<Integer> leafFirst = d.getStackTable(s.getStackIndex()).getLocationIndicesList();
                StringBuilder sb = new StringBuilder();
                for (int i = leafFirst.size() - 1; i >= 0; i--) {
                    sb.append(sb.isEmpty() ? "" : ";").append(label(d, d.getLocationTable(leafFirst.get(i))));
                }
                long n = s.getValuesList().stream().mapToLong(Long::longValue).sum();
                out.merge(sb.toString(), n, Long::sum);
            }
        }
        return out;
    }

    /** The locations (dictionary indices) the samples of {@code pid} in {@code req} use. */
    static java.util.SortedSet<Integer> locationsOf(ExportProfilesServiceRequest req, long pid) {
        java.util.SortedSet<Integer> out = new java.util.TreeSet<>();
        for (Sample s : samplesOf(req, pid)) {
            out.addAll(req.getDictionary().getStackTable(s.getStackIndex()).getLocationIndicesList());
        }
        return out;
    }

    /** The samples of {@code pid} in {@code req} (the dictionary is shared by every process of the request). */
    private static List<Sample> samplesOf(ExportProfilesServiceRequest req, long pid) {
        return samplesOf(req, pid, null);
    }

    private static List<Sample> samplesOf(ExportProfilesServiceRequest req, long pid, String type) {
        ProfilesDictionary d = req.getDictionary();
        return req.getResourceProfilesList().stream()
                .filter(rp -> resource(rp).get("process.pid").getIntValue() == pid)
                .flatMap(rp -> rp.getScopeProfilesList().stream())
                .flatMap(sp -> sp.getProfilesList().stream())
                .filter(p -> type == null || d.getStringTable(p.getSampleType().getTypeStrindex()).equals(type))
                .flatMap(p -> p.getSamplesList().stream())
                .toList();
    }

    static String frameType(ProfilesDictionary d, Location l) {
        for (int a : l.getAttributeIndicesList()) {
            KeyValueAndUnit kv = d.getAttributeTable(a);
            if (d.getStringTable(kv.getKeyStrindex()).equals("profile.frame.type")) {
                return kv.getValue().getStringValue();
            }
        }
        return "";
    }

    /**
     * The frame a location describes, from its own fields (function, file, start line, line, address, mapping,
     * frame type, {@code luajit.compiled}, {@code luajit.inlined}): what a backend sees.
     */
    static Frame frame(ProfilesDictionary d, Location l) {
        CodeMapping mapping = CodeMapping.NONE;
        if (l.getMappingIndex() != 0) {
            Mapping m = d.getMappingTable(l.getMappingIndex());
            String buildId = "";
            for (int a : m.getAttributeIndicesList()) {
                KeyValueAndUnit kv = d.getAttributeTable(a);
                if (d.getStringTable(kv.getKeyStrindex()).equals("process.executable.build_id.gnu")) {
                    buildId = kv.getValue().getStringValue();
                }
            }
            mapping = new CodeMapping(d.getStringTable(m.getFilenameStrindex()), m.getMemoryStart(),
                    m.getMemoryLimit(), m.getFileOffset(), buildId);
        }
        String name = "";
        String file = "";
        int line = 0;
        int startLine = 0;
        if (l.getLinesCount() > 0) {
            Function f = d.getFunctionTable(l.getLines(0).getFunctionIndex());
            name = d.getStringTable(f.getNameStrindex());
            file = d.getStringTable(f.getFilenameStrindex());
            startLine = (int) f.getStartLine();
            line = (int) l.getLines(0).getLine();
        }
        boolean compiled = false;
        boolean inlined = false;
        for (int a : l.getAttributeIndicesList()) {
            KeyValueAndUnit kv = d.getAttributeTable(a);
            if (d.getStringTable(kv.getKeyStrindex()).equals("luajit.compiled")) {
                compiled = kv.getValue().getBoolValue();
            } else if (d.getStringTable(kv.getKeyStrindex()).equals("luajit.inlined")) {
                inlined = kv.getValue().getBoolValue();
            }
        }
        boolean inlinedLua = inlined;
        return switch (frameType(d, l)) {
            case "kernel" -> Frame.kernel(name, l.getAddress(), mapping);
            case "native" -> Frame.nativeCode(name, l.getAddress(), mapping);
            case "abort-marker" -> Frame.error(name);
            default -> {
                Frame lua = Frame.interpreted(frameType(d, l), name, file, line, startLine, compiled || inlinedLua);
                yield inlinedLua ? lua.asInlined() : lua;
            }
        };
    }

    private static String label(ProfilesDictionary d, Location l) {
        return frame(d, l).label().replace(';', ':');
    }
}
