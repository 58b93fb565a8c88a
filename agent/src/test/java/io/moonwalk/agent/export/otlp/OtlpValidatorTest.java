package io.moonwalk.agent.export.otlp;

import org.junit.jupiter.api.Tag;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.profiles.v1development.Function;
import io.opentelemetry.proto.profiles.v1development.KeyValueAndUnit;
import io.opentelemetry.proto.profiles.v1development.Link;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.Mapping;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.Sample;
import io.opentelemetry.proto.profiles.v1development.Stack;
import io.moonwalk.agent.export.otlp.OtlpValidator.Rule;
import io.moonwalk.agent.export.otlp.OtlpValidator.Violation;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("pure")
class OtlpValidatorTest {

    private static final ExportProfilesServiceRequest GOOD = ReceivedExport.encoder().encode(TestProfiles.twoProcesses());
    private static final String SAMPLE0 = "resource_profiles[0].scope_profiles[0].profiles[0].samples[0]";

    private static List<Violation> breakDictionary(Consumer<ProfilesDictionary.Builder> damage) {
        ExportProfilesServiceRequest.Builder b = GOOD.toBuilder();
        damage.accept(b.getDictionaryBuilder());
        return OtlpValidator.validate(b.build());
    }

    private static List<Violation> breakSample(Consumer<Sample.Builder> damage) {
        ExportProfilesServiceRequest.Builder b = GOOD.toBuilder();
        damage.accept(b.getResourceProfilesBuilder(0).getScopeProfilesBuilder(0).getProfilesBuilder(0).getSamplesBuilder(0));
        return OtlpValidator.validate(b.build());
    }

    private static Violation v(Rule rule, String where) {
        return new Violation(rule, where, "");
    }

    /** Compares rule and location only; the detail text is for humans. */
    private static void assertExactly(List<Violation> actual, Violation... expected) {
        assertThat(actual).as("violations: %s", actual)
                .map(x -> x.rule() + "@" + x.where())
                .containsExactlyInAnyOrder(java.util.Arrays.stream(expected).map(x -> x.rule() + "@" + x.where())
                        .toArray(String[]::new));
    }

    @Test
    void goodRequestHasNoViolations() {
        assertThat(OtlpValidator.validate(GOOD)).isEmpty();
    }

    @Test
    void missingDictionary() {
        assertExactly(OtlpValidator.validate(GOOD.toBuilder().clearDictionary().build()),
                v(Rule.MISSING_DICTIONARY, "dictionary"));
    }

    @Test
    void nonZeroFirstString() {
        assertExactly(breakDictionary(d -> d.setStringTable(0, "x")),
                v(Rule.ZERO_VALUE, "dictionary.string_table[0]"));
    }

    @Test
    void emptyTablesReportTheMissingZeroAndTheDanglingReferences() {
        List<Violation> noStacks = breakDictionary(ProfilesDictionary.Builder::clearStackTable);
        assertThat(noStacks).anyMatch(x -> x.rule() == Rule.ZERO_VALUE && x.where().equals("dictionary.stack_table"));
        assertThat(noStacks).anyMatch(x -> x.rule() == Rule.INDEX_OUT_OF_RANGE && x.where().equals(SAMPLE0 + ".stack_index"));
        List<Violation> noLinks = breakDictionary(ProfilesDictionary.Builder::clearLinkTable);
        assertThat(noLinks).anyMatch(x -> x.rule() == Rule.ZERO_VALUE && x.where().equals("dictionary.link_table"));
        assertThat(noLinks).anyMatch(x -> x.rule() == Rule.INDEX_OUT_OF_RANGE && x.where().equals(SAMPLE0 + ".link_index"));
        List<Violation> noStrings = breakDictionary(ProfilesDictionary.Builder::clearStringTable);
        assertThat(noStrings).anyMatch(x -> x.rule() == Rule.ZERO_VALUE && x.where().equals("dictionary.string_table"));
        assertThat(noStrings).anyMatch(x -> x.rule() == Rule.INDEX_OUT_OF_RANGE
                && x.where().equals("dictionary.function_table[1].name_strindex"));
    }

    @Test
    void nonZeroFirstEntriesInEveryMessageTable() {
        assertExactly(breakDictionary(d -> d.setMappingTable(0, Mapping.newBuilder().setMemoryStart(1))),
                v(Rule.ZERO_VALUE, "dictionary.mapping_table[0]"));
        assertExactly(breakDictionary(d -> d.setLocationTable(0, Location.newBuilder().setAddress(1))),
                v(Rule.ZERO_VALUE, "dictionary.location_table[0]"));
        assertExactly(breakDictionary(d -> d.setFunctionTable(0, Function.newBuilder().setStartLine(3))),
                v(Rule.ZERO_VALUE, "dictionary.function_table[0]"));
        assertExactly(breakDictionary(d -> d.setStackTable(0, Stack.newBuilder().addLocationIndices(1))),
                v(Rule.ZERO_VALUE, "dictionary.stack_table[0]"));
        assertExactly(breakDictionary(d -> d.setAttributeTable(0, KeyValueAndUnit.newBuilder().setUnitStrindex(1))),
                v(Rule.ZERO_VALUE, "dictionary.attribute_table[0]"));
        assertExactly(breakDictionary(d -> d.setLinkTable(0, Link.newBuilder()
                        .setTraceId(com.google.protobuf.ByteString.copyFrom(new byte[]{1})))),
                v(Rule.ZERO_VALUE, "dictionary.link_table[0]"));
    }

    @Test
    void emptyLinkZeroFormIsAccepted() {
        assertThat(breakDictionary(d -> d.setLinkTable(0, Link.getDefaultInstance()))).isEmpty();
    }

    @Test
    void indicesOutOfRange() {
        assertExactly(breakDictionary(d -> d.setStackTable(1, d.getStackTable(1).toBuilder().setLocationIndices(0, 9999))),
                v(Rule.INDEX_OUT_OF_RANGE, "dictionary.stack_table[1].location_indices[0]"));
        assertExactly(breakDictionary(d -> d.setLocationTable(1, d.getLocationTable(1).toBuilder().setMappingIndex(-1))),
                v(Rule.INDEX_OUT_OF_RANGE, "dictionary.location_table[1].mapping_index"));
        assertExactly(breakDictionary(d -> d.setLocationTable(1, d.getLocationTable(1).toBuilder()
                        .setLines(0, d.getLocationTable(1).getLines(0).toBuilder().setFunctionIndex(500)))),
                v(Rule.INDEX_OUT_OF_RANGE, "dictionary.location_table[1].lines[0].function_index"));
        assertExactly(breakDictionary(d -> d.setFunctionTable(1, d.getFunctionTable(1).toBuilder().setNameStrindex(100000))),
                v(Rule.INDEX_OUT_OF_RANGE, "dictionary.function_table[1].name_strindex"));
        assertExactly(breakDictionary(d -> d.setMappingTable(1, d.getMappingTable(1).toBuilder().setFilenameStrindex(100000))),
                v(Rule.INDEX_OUT_OF_RANGE, "dictionary.mapping_table[1].filename_strindex"));
        assertExactly(breakDictionary(d -> d.setAttributeTable(1, d.getAttributeTable(1).toBuilder()
                        .setValue(AnyValue.newBuilder().setStringValueStrindex(100000)))),
                v(Rule.INDEX_OUT_OF_RANGE, "dictionary.attribute_table[1].value.string_value_strindex"));
        assertExactly(breakSample(s -> s.setStackIndex(77)), v(Rule.INDEX_OUT_OF_RANGE, SAMPLE0 + ".stack_index"));
        assertExactly(breakSample(s -> s.setLinkIndex(3)), v(Rule.INDEX_OUT_OF_RANGE, SAMPLE0 + ".link_index"));
        assertExactly(breakSample(s -> s.addAttributeIndices(-4)),
                v(Rule.INDEX_OUT_OF_RANGE, SAMPLE0 + ".attribute_indices[" + GOOD.getResourceProfiles(0)
                        .getScopeProfiles(0).getProfiles(0).getSamples(0).getAttributeIndicesCount() + "]"));
    }

    @Test
    void duplicateEntries() {
        assertExactly(breakDictionary(d -> d.addStringTable(d.getStringTable(3))),
                v(Rule.DUPLICATE_ENTRY, "dictionary.string_table[" + GOOD.getDictionary().getStringTableCount() + "]"));
        assertExactly(breakDictionary(d -> d.addLocationTable(d.getLocationTable(2))),
                v(Rule.DUPLICATE_ENTRY, "dictionary.location_table[" + GOOD.getDictionary().getLocationTableCount() + "]"));
        assertExactly(breakDictionary(d -> d.addStackTable(d.getStackTable(1))),
                v(Rule.DUPLICATE_ENTRY, "dictionary.stack_table[" + GOOD.getDictionary().getStackTableCount() + "]"));
        assertExactly(breakDictionary(d -> d.addFunctionTable(d.getFunctionTable(1))),
                v(Rule.DUPLICATE_ENTRY, "dictionary.function_table[" + GOOD.getDictionary().getFunctionTableCount() + "]"));
        assertExactly(breakDictionary(d -> d.addMappingTable(d.getMappingTable(1))),
                v(Rule.DUPLICATE_ENTRY, "dictionary.mapping_table[" + GOOD.getDictionary().getMappingTableCount() + "]"));
        assertExactly(breakDictionary(d -> d.addAttributeTable(d.getAttributeTable(1))),
                v(Rule.DUPLICATE_ENTRY, "dictionary.attribute_table[" + GOOD.getDictionary().getAttributeTableCount() + "]"));
    }

    @Test
    void emptyAttributeKey() {
        int n = GOOD.getDictionary().getAttributeTableCount();
        assertExactly(breakDictionary(d -> d.addAttributeTable(KeyValueAndUnit.newBuilder()
                        .setValue(AnyValue.newBuilder().setStringValue("orphan")))),
                v(Rule.EMPTY_ATTRIBUTE_KEY, "dictionary.attribute_table[" + n + "].key_strindex"));
    }

    @Test
    void duplicateKeyInOneAttributeList() {
        ExportProfilesServiceRequest.Builder b = GOOD.toBuilder();
        ProfilesDictionary.Builder d = b.getDictionaryBuilder();
        int threadKey = d.getAttributeTable(b.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0)
                .getSamples(0).getAttributeIndices(0)).getKeyStrindex();
        d.addAttributeTable(KeyValueAndUnit.newBuilder().setKeyStrindex(threadKey)
                .setValue(AnyValue.newBuilder().setStringValue("another value")));
        int added = d.getAttributeTableCount() - 1;
        Sample.Builder s = b.getResourceProfilesBuilder(0).getScopeProfilesBuilder(0).getProfilesBuilder(0).getSamplesBuilder(0);
        s.addAttributeIndices(added);
        assertExactly(OtlpValidator.validate(b.build()),
                v(Rule.DUPLICATE_ATTRIBUTE_KEY, SAMPLE0 + ".attribute_indices[" + (s.getAttributeIndicesCount() - 1) + "]"));
    }

    @Test
    void emptyStacks() {
        int n = GOOD.getDictionary().getStackTableCount();
        // An empty stack after index 0 is also a duplicate of the zero stack.
        assertExactly(breakDictionary(d -> d.addStackTable(Stack.getDefaultInstance())),
                v(Rule.EMPTY_STACK, "dictionary.stack_table[" + n + "]"),
                v(Rule.DUPLICATE_ENTRY, "dictionary.stack_table[" + n + "]"));
        assertExactly(breakSample(s -> s.setStackIndex(0)), v(Rule.EMPTY_STACK, SAMPLE0 + ".stack_index"));
    }

    @Test
    void unnamedFunction() {
        assertExactly(breakDictionary(d -> d.setFunctionTable(1, Function.newBuilder().setStartLine(7))),
                v(Rule.UNNAMED_FUNCTION, "dictionary.function_table[1]"));
    }

    @Test
    void sampleValues() {
        assertExactly(breakSample(Sample.Builder::clearValues), v(Rule.SAMPLE_VALUES, SAMPLE0));
        assertExactly(breakSample(s -> s.addValues(1).addTimestampsUnixNano(5)), v(Rule.SAMPLE_VALUES, SAMPLE0));
        assertThat(breakSample(s -> s.addTimestampsUnixNano(5))).isEmpty();
    }

    @Test
    void profileValueTypeStringsChecked() {
        ExportProfilesServiceRequest.Builder b = GOOD.toBuilder();
        b.getResourceProfilesBuilder(1).getScopeProfilesBuilder(0).getProfilesBuilder(0).getSampleTypeBuilder()
                .setUnitStrindex(123456);
        assertExactly(OtlpValidator.validate(b.build()),
                v(Rule.INDEX_OUT_OF_RANGE, "resource_profiles[1].scope_profiles[0].profiles[0].sample_type.unit_strindex"));
    }
}
