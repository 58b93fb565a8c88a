package io.moonwalk.agent.export.otlp;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.profiles.v1development.Function;
import io.opentelemetry.proto.profiles.v1development.KeyValueAndUnit;
import io.opentelemetry.proto.profiles.v1development.Link;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.Mapping;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.Stack;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Interns values into the tables of one {@link ProfilesDictionary}: every table starts with its zero
 * value at index 0 and holds each distinct value once (the proto's value identity: generated messages
 * compare and hash by content).
 */
final class DictionaryBuilder {

    private final Table<String> strings = new Table<>("");
    private final Table<KeyValueAndUnit> attributes = new Table<>(KeyValueAndUnit.getDefaultInstance());
    private final Table<Function> functions = new Table<>(Function.getDefaultInstance());
    private final Table<Mapping> mappings = new Table<>(Mapping.getDefaultInstance());
    private final Table<Location> locations = new Table<>(Location.getDefaultInstance());
    private final Table<Stack> stacks = new Table<>(Stack.getDefaultInstance());

    int string(String s) {
        return strings.intern(s);
    }

    int attribute(String key, AnyValue value) {
        return attributes.intern(KeyValueAndUnit.newBuilder().setKeyStrindex(string(key)).setValue(value).build());
    }

    int stringAttribute(String key, String value) {
        return attribute(key, AnyValue.newBuilder().setStringValue(value).build());
    }

    int function(Function f) {
        return functions.intern(f);
    }

    int mapping(Mapping m) {
        return mappings.intern(m);
    }

    int location(Location l) {
        return locations.intern(l);
    }

    int stack(Stack s) {
        return stacks.intern(s);
    }

    ProfilesDictionary build() {
        return ProfilesDictionary.newBuilder()
                .addAllStringTable(strings.values)
                .addAllAttributeTable(attributes.values)
                .addAllFunctionTable(functions.values)
                .addAllMappingTable(mappings.values)
                .addAllLocationTable(locations.values)
                .addAllStackTable(stacks.values)
                // No trace links yet; the zero element is the 16/8-byte zero form the proto recommends.
                .addLinkTable(Link.newBuilder()
                        .setTraceId(com.google.protobuf.ByteString.copyFrom(new byte[16]))
                        .setSpanId(com.google.protobuf.ByteString.copyFrom(new byte[8])))
                .build();
    }

    private static final class Table<T> {
        final List<T> values = new ArrayList<>();
        final Map<T, Integer> index = new HashMap<>();

        Table(T zero) {
            intern(zero);
        }

        int intern(T value) {
            Integer i = index.get(value);
            if (i != null) {
                return i;
            }
            int next = values.size();
            values.add(value);
            index.put(value, next);
            return next;
        }
    }
}
