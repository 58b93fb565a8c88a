package io.moonwalk.agent.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("pure")
class HostCheckTest {
    private final HostCheck check = new HostCheck("node-7");

    @Test
    void addressesLocalhostAndTheOwnNameAreAllowed() {
        for (String h : new String[] {"127.0.0.1:7070", "127.0.0.1", "localhost:8080", "LOCALHOST", "10.1.2.3:7070",
                "[::1]:7070", "[fe80::1]", "node-7:7070", "Node-7"}) {
            assertThat(check.allows(h)).as(h).isTrue();
        }
    }

    @Test
    void otherNamesAndMalformedHostsAreRefused() {
        for (String h : new String[] {null, "", "evil.example:7070", "127.0.0.1.evil.example", "localhost.evil.example",
                "node-7.evil.example", "127.0.0.1:70x0", "[::1]x", "256.1.1.1", "1.2.3", "localhost:"}) {
            assertThat(check.allows(h)).as(String.valueOf(h)).isFalse();
        }
    }
}
