package io.moonwalk.agent.export.otlp;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Tag("pure")
class RetryPolicyTest {

    private final RetryPolicy policy = new RetryPolicy(Duration.ofMillis(100), Duration.ofMillis(1000), 2, 10);

    @Test
    void delaysGrowExponentiallyWithJitterAndStayCapped() {
        SplittableRandom random = new SplittableRandom(42);
        long[] nominal = {100, 200, 400, 800, 1000, 1000, 1000};
        for (int attempt = 1; attempt <= nominal.length; attempt++) {
            long min = Long.MAX_VALUE;
            long max = 0;
            for (int i = 0; i < 2000; i++) {
                long ms = policy.delay(attempt, null, random).toMillis();
                min = Math.min(min, ms);
                max = Math.max(max, ms);
            }
            long n = nominal[attempt - 1];
            assertThat(min).as("attempt %d", attempt).isGreaterThanOrEqualTo(n / 2).isLessThan(n * 6 / 10);
            assertThat(max).as("attempt %d", attempt).isLessThanOrEqualTo(n).isGreaterThan(n * 9 / 10);
        }
    }

    @Test
    void serverHintWinsButIsLimited() {
        SplittableRandom random = new SplittableRandom(1);
        assertThat(policy.delay(1, Duration.ofSeconds(7), random)).isEqualTo(Duration.ofSeconds(7));
        assertThat(policy.delay(1, Duration.ofHours(5), random)).isEqualTo(RetryPolicy.MAX_SERVER_DELAY);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new RetryPolicy(Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3))
                .hasMessageContaining("initialBackoff");
        assertThatThrownBy(() -> new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(1), 0.5, 3))
                .hasMessageContaining("multiplier");
        assertThatThrownBy(() -> new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(1), 2, 0))
                .hasMessageContaining("maxAttempts");
    }
}
