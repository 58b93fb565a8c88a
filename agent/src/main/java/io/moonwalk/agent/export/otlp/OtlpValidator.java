package io.moonwalk.agent.export.otlp;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.profiles.v1development.Function;
import io.opentelemetry.proto.profiles.v1development.KeyValueAndUnit;
import io.opentelemetry.proto.profiles.v1development.Line;
import io.opentelemetry.proto.profiles.v1development.Link;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.Mapping;
import io.opentelemetry.proto.profiles.v1development.Profile;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;
import io.opentelemetry.proto.profiles.v1development.Sample;
import io.opentelemetry.proto.profiles.v1development.ScopeProfiles;
import io.opentelemetry.proto.profiles.v1development.Stack;
import io.opentelemetry.proto.profiles.v1development.ValueType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks an export request against the {@code profiles/v1development} dictionary rules: zero value at
 * index 0 of every table, every index in range, no duplicate table entries, non-empty attribute keys,
 * unique keys per attribute list, non-empty stacks, functions with a name, samples with values.
 * Used by the tests and as a debugging aid for anything the agent sends or receives.
 */
public final class OtlpValidator {

    /** What kind of rule a violation breaks. */
    public enum Rule {
        MISSING_DICTIONARY,
        ZERO_VALUE,
        INDEX_OUT_OF_RANGE,
        DUPLICATE_ENTRY,
        EMPTY_ATTRIBUTE_KEY,
        DUPLICATE_ATTRIBUTE_KEY,
        EMPTY_STACK,
        UNNAMED_FUNCTION,
        SAMPLE_VALUES
    }

    /**
     * @param rule   the rule broken
     * @param where  a field path, e.g. {@code dictionary.stack_table[3].location_indices[1]}
     * @param detail what is wrong
     */
    public record Violation(Rule rule, String where, String detail) {
        @Override
        public String toString() {
            return rule + " at " + where + ": " + detail;
        }
    }

    private OtlpValidator() {
    }

    public static List<Violation> validate(ExportProfilesServiceRequest request) {
        return new Run(request.hasDictionary() ? request.getDictionary() : null).request(request);
    }

    /** One validation pass; collects violations instead of failing fast so a report shows everything. */
    private static final class Run {
        private final ProfilesDictionary d;
        private final List<Violation> out = new ArrayList<>();

        Run(ProfilesDictionary d) {
            this.d = d;
        }

        List<Violation> request(ExportProfilesServiceRequest request) {
            if (d == null) {
                out.add(new Violation(Rule.MISSING_DICTIONARY, "dictionary",
                        "the request has no ProfilesDictionary; every index would dangle"));
                return out;
            }
            dictionary();
            for (int r = 0; r < request.getResourceProfilesCount(); r++) {
                ResourceProfiles rp = request.getResourceProfiles(r);
                for (int s = 0; s < rp.getScopeProfilesCount(); s++) {
                    ScopeProfiles sp = rp.getScopeProfiles(s);
                    for (int p = 0; p < sp.getProfilesCount(); p++) {
                        profile("resource_profiles[" + r + "].scope_profiles[" + s + "].profiles[" + p + "]",
                                sp.getProfiles(p));
                    }
                }
            }
            return out;
        }

        private void dictionary() {
            zeroAndDuplicates("string_table", d.getStringTableList(), "");
            zeroAndDuplicates("attribute_table", d.getAttributeTableList(), KeyValueAndUnit.getDefaultInstance());
            zeroAndDuplicates("function_table", d.getFunctionTableList(), Function.getDefaultInstance());
            zeroAndDuplicates("mapping_table", d.getMappingTableList(), Mapping.getDefaultInstance());
            zeroAndDuplicates("location_table", d.getLocationTableList(), Location.getDefaultInstance());
            zeroAndDuplicates("stack_table", d.getStackTableList(), Stack.getDefaultInstance());
            links();

            for (int i = 1; i < d.getAttributeTableCount(); i++) {
                String at = "dictionary.attribute_table[" + i + "]";
                KeyValueAndUnit kv = d.getAttributeTable(i);
                if (str(at + ".key_strindex", kv.getKeyStrindex()) && d.getStringTable(kv.getKeyStrindex()).isEmpty()) {
                    out.add(new Violation(Rule.EMPTY_ATTRIBUTE_KEY, at + ".key_strindex", "attribute key is the empty string"));
                }
                str(at + ".unit_strindex", kv.getUnitStrindex());
                anyValue(at + ".value", kv.getValue());
            }
            for (int i = 1; i < d.getFunctionTableCount(); i++) {
                String at = "dictionary.function_table[" + i + "]";
                Function f = d.getFunctionTable(i);
                boolean ok = str(at + ".name_strindex", f.getNameStrindex())
                        & str(at + ".system_name_strindex", f.getSystemNameStrindex())
                        & str(at + ".filename_strindex", f.getFilenameStrindex());
                if (ok && f.getNameStrindex() == 0 && f.getSystemNameStrindex() == 0 && f.getFilenameStrindex() == 0) {
                    out.add(new Violation(Rule.UNNAMED_FUNCTION, at,
                            "none of name, system_name, filename is set; the proto needs at least one"));
                }
            }
            for (int i = 1; i < d.getMappingTableCount(); i++) {
                String at = "dictionary.mapping_table[" + i + "]";
                Mapping m = d.getMappingTable(i);
                str(at + ".filename_strindex", m.getFilenameStrindex());
                attributeList(at + ".attribute_indices", m.getAttributeIndicesList());
            }
            for (int i = 1; i < d.getLocationTableCount(); i++) {
                String at = "dictionary.location_table[" + i + "]";
                Location l = d.getLocationTable(i);
                index(at + ".mapping_index", l.getMappingIndex(), d.getMappingTableCount(), "mapping_table");
                for (int j = 0; j < l.getLinesCount(); j++) {
                    Line line = l.getLines(j);
                    index(at + ".lines[" + j + "].function_index", line.getFunctionIndex(),
                            d.getFunctionTableCount(), "function_table");
                }
                attributeList(at + ".attribute_indices", l.getAttributeIndicesList());
            }
            for (int i = 1; i < d.getStackTableCount(); i++) {
                String at = "dictionary.stack_table[" + i + "]";
                Stack s = d.getStackTable(i);
                if (s.getLocationIndicesCount() == 0) {
                    out.add(new Violation(Rule.EMPTY_STACK, at, "stack has no locations"));
                }
                for (int j = 0; j < s.getLocationIndicesCount(); j++) {
                    index(at + ".location_indices[" + j + "]", s.getLocationIndices(j),
                            d.getLocationTableCount(), "location_table");
                }
            }
        }

        private void links() {
            List<Link> links = d.getLinkTableList();
            if (links.isEmpty()) {
                out.add(new Violation(Rule.ZERO_VALUE, "dictionary.link_table", "table is empty; index 0 must hold Link{}"));
                return;
            }
            // The proto accepts both Link{} and the 16/8-byte all-zero form (and recommends the latter).
            Link zero = links.get(0);
            if (!allZero(zero.getTraceId(), 16) || !allZero(zero.getSpanId(), 8)) {
                out.add(new Violation(Rule.ZERO_VALUE, "dictionary.link_table[0]", "index 0 is not the zero link"));
            }
            duplicates("link_table", links);
        }

        private static boolean allZero(ByteString b, int expectedLength) {
            if (!b.isEmpty() && b.size() != expectedLength) {
                return false;
            }
            for (int i = 0; i < b.size(); i++) {
                if (b.byteAt(i) != 0) {
                    return false;
                }
            }
            return true;
        }

        private <T> void zeroAndDuplicates(String table, List<T> values, T zero) {
            if (values.isEmpty()) {
                out.add(new Violation(Rule.ZERO_VALUE, "dictionary." + table, "table is empty; index 0 must hold the zero value"));
                return;
            }
            if (!values.get(0).equals(zero)) {
                out.add(new Violation(Rule.ZERO_VALUE, "dictionary." + table + "[0]",
                        "index 0 is not the zero value: " + shortText(values.get(0))));
            }
            duplicates(table, values);
        }

        private <T> void duplicates(String table, List<T> values) {
            Map<T, Integer> first = new HashMap<>();
            for (int i = 0; i < values.size(); i++) {
                Integer prev = first.putIfAbsent(values.get(i), i);
                if (prev != null) {
                    out.add(new Violation(Rule.DUPLICATE_ENTRY, "dictionary." + table + "[" + i + "]",
                            "same value as index " + prev));
                }
            }
        }

        private void profile(String at, Profile p) {
            valueType(at + ".sample_type", p.getSampleType());
            valueType(at + ".period_type", p.getPeriodType());
            attributeList(at + ".attribute_indices", p.getAttributeIndicesList());
            for (int i = 0; i < p.getSamplesCount(); i++) {
                String sat = at + ".samples[" + i + "]";
                Sample s = p.getSamples(i);
                if (index(sat + ".stack_index", s.getStackIndex(), d.getStackTableCount(), "stack_table")
                        && s.getStackIndex() == 0) {
                    out.add(new Violation(Rule.EMPTY_STACK, sat + ".stack_index", "sample references the empty stack 0"));
                }
                index(sat + ".link_index", s.getLinkIndex(), d.getLinkTableCount(), "link_table");
                attributeList(sat + ".attribute_indices", s.getAttributeIndicesList());
                int values = s.getValuesCount();
                int stamps = s.getTimestampsUnixNanoCount();
                if (values == 0 && stamps == 0) {
                    out.add(new Violation(Rule.SAMPLE_VALUES, sat, "sample has neither values nor timestamps"));
                } else if (values != 0 && stamps != 0 && values != stamps) {
                    out.add(new Violation(Rule.SAMPLE_VALUES, sat,
                            values + " values but " + stamps + " timestamps; they must pair up"));
                }
            }
        }

        private void valueType(String at, ValueType v) {
            str(at + ".type_strindex", v.getTypeStrindex());
            str(at + ".unit_strindex", v.getUnitStrindex());
        }

        private void anyValue(String at, AnyValue v) {
            if (v.getValueCase() == AnyValue.ValueCase.STRING_VALUE_STRINDEX) {
                str(at + ".string_value_strindex", v.getStringValueStrindex());
            }
        }

        /** Indices must be in range, and keys unique within one referencing list. */
        private void attributeList(String at, List<Integer> indices) {
            Set<String> keys = new HashSet<>();
            for (int j = 0; j < indices.size(); j++) {
                int a = indices.get(j);
                if (!index(at + "[" + j + "]", a, d.getAttributeTableCount(), "attribute_table")) {
                    continue;
                }
                int key = d.getAttributeTable(a).getKeyStrindex();
                if (key >= 0 && key < d.getStringTableCount() && !keys.add(d.getStringTable(key))) {
                    out.add(new Violation(Rule.DUPLICATE_ATTRIBUTE_KEY, at + "[" + j + "]",
                            "key '" + d.getStringTable(key) + "' appears twice in one attribute list"));
                }
            }
        }

        private boolean str(String at, int i) {
            return index(at, i, d.getStringTableCount(), "string_table");
        }

        private boolean index(String at, int i, int size, String table) {
            if (i < 0 || i >= size) {
                out.add(new Violation(Rule.INDEX_OUT_OF_RANGE, at, i + " is outside " + table + " (size " + size + ")"));
                return false;
            }
            return true;
        }

        private static String shortText(Object o) {
            String s = o instanceof Message m ? m.toString().replace('\n', ' ').trim() : "'" + o + "'";
            return s.length() > 80 ? s.substring(0, 80) + "..." : s;
        }
    }
}
