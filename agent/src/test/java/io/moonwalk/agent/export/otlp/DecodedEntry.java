package io.moonwalk.agent.export.otlp;

import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.profiles.v1development.Function;
import io.opentelemetry.proto.profiles.v1development.KeyValueAndUnit;
import io.opentelemetry.proto.profiles.v1development.Line;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.Mapping;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;
import io.opentelemetry.proto.profiles.v1development.Sample;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A sample read back from a request through the dictionary only (the way a receiver sees it), in
 * the model's terms, so tests can compare it with the input entries.
 */
record DecodedEntry(long pid, Map<String, String> attributes, List<Frame> frames, long count) {

    static List<DecodedEntry> decode(ExportProfilesServiceRequest req) {
        ProfilesDictionary d = req.getDictionary();
        List<DecodedEntry> out = new ArrayList<>();
        for (ResourceProfiles rp : req.getResourceProfilesList()) {
            long pid = resource(rp).get("process.pid").getIntValue();
            for (var sp : rp.getScopeProfilesList()) {
                for (var p : sp.getProfilesList()) {
                    for (Sample s : p.getSamplesList()) {
                        Map<String, String> attrs = new HashMap<>();
                        for (int a : s.getAttributeIndicesList()) {
                            KeyValueAndUnit kv = d.getAttributeTable(a);
                            AnyValue v = kv.getValue();
                            attrs.put(d.getStringTable(kv.getKeyStrindex()),
                                    v.hasIntValue() ? Long.toString(v.getIntValue()) : v.getStringValue());
                        }
                        List<Frame> frames = new ArrayList<>();
                        List<Integer> leafFirst = d.getStackTable(s.getStackIndex()).getLocationIndicesList();
                        for (int i = leafFirst.size() - 1; i >= 0; i--) {
                            frames.add(frame(d, d.getLocationTable(leafFirst.get(i))));
                        }
                        long count = 0;
                        for (long v : s.getValuesList()) {
                            count += v;
                        }
                        out.add(new DecodedEntry(pid, attrs, frames, count));
                    }
                }
            }
        }
        return out;
    }

    static Map<String, AnyValue> resource(ResourceProfiles rp) {
        Map<String, AnyValue> m = new HashMap<>();
        for (KeyValue kv : rp.getResource().getAttributesList()) {
            m.put(kv.getKey(), kv.getValue());
        }
        return m;
    }

    /** The frame a location describes, from its own fields only: mapping, address, line, function. */
    private static Frame frame(ProfilesDictionary d, Location l) {
        CodeMapping mapping = CodeMapping.NONE;
        if (l.getMappingIndex() != 0) {
            Mapping m = d.getMappingTable(l.getMappingIndex());
            String buildId = "";
            String htlHash = "";
            for (int a : m.getAttributeIndicesList()) {
                KeyValueAndUnit kv = d.getAttributeTable(a);
                switch (d.getStringTable(kv.getKeyStrindex())) {
                    case "process.executable.build_id.gnu" -> buildId = kv.getValue().getStringValue();
                    case "process.executable.build_id.htlhash" -> htlHash = kv.getValue().getStringValue();
                    default -> {
                    }
                }
            }
            mapping = new CodeMapping(d.getStringTable(m.getFilenameStrindex()), m.getMemoryStart(), m.getMemoryLimit(),
                    m.getFileOffset(), buildId, htlHash);
        }
        String name = "";
        String file = "";
        int line = 0;
        int startLine = 0;
        if (l.getLinesCount() > 0) {
            Line ln = l.getLines(0);
            Function f = d.getFunctionTable(ln.getFunctionIndex());
            name = d.getStringTable(f.getNameStrindex());
            file = d.getStringTable(f.getFilenameStrindex());
            startLine = (int) f.getStartLine();
            line = (int) ln.getLine();
        }
        String type = null;
        boolean compiled = false;
        for (int a : l.getAttributeIndicesList()) {
            KeyValueAndUnit kv = d.getAttributeTable(a);
            String key = d.getStringTable(kv.getKeyStrindex());
            if (key.equals("profile.frame.type")) {
                type = kv.getValue().getStringValue();
            } else if (key.equals("luajit.compiled")) {
                compiled = kv.getValue().getBoolValue();
            }
        }
        return switch (type) {
            case "kernel" -> Frame.kernel(name, l.getAddress(), mapping);
            case "native" -> Frame.nativeCode(name, l.getAddress(), mapping);
            case "luajit" -> Frame.interpreted("luajit", name, file, line, startLine, compiled);
            case "abort-marker" -> Frame.error(name);
            default -> throw new AssertionError("unexpected profile.frame.type " + type);
        };
    }
}
