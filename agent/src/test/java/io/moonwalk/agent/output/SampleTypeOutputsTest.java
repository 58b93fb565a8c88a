package io.moonwalk.agent.output;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.perftools.profiles.ProfileProto;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A profile whose values are not CPU samples (off-CPU nanoseconds) is written with its own sample type and unit
 * and no sampling period; a CPU profile keeps samples/count plus cpu/nanoseconds with its period.
 */
class SampleTypeOutputsTest {
    private static Profile offCpu() {
        Profile cpu = SampleProfiles.small();
        return new Profile(cpu.startEpochNanos(), cpu.durationNanos(), 0, cpu.entries(), SampleType.OFF_CPU);
    }

    private static ProfileProto.Profile pprof(Profile p, Path dir) throws Exception {
        Path file = dir.resolve("p.pb.gz");
        OutputFormat.forPath(file).newWriter().writeFile(p, file);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return ProfileProto.Profile.parseFrom(in.readAllBytes());
        }
    }

    private static String str(ProfileProto.Profile p, long i) {
        return p.getStringTable((int) i);
    }

    @Test
    void pprofNamesTheOffCpuSampleTypeAndHasNoPeriod(@TempDir Path dir) throws Exception {
        Profile in = offCpu();
        ProfileProto.Profile p = pprof(in, dir);
        assertThat(p.getSampleTypeCount()).isEqualTo(1);
        assertThat(str(p, p.getSampleType(0).getType())).isEqualTo("off_cpu");
        assertThat(str(p, p.getSampleType(0).getUnit())).isEqualTo("nanoseconds");
        assertThat(p.hasPeriodType()).isFalse();
        assertThat(p.getPeriod()).isZero();
        long total = p.getSampleList().stream().mapToLong(s -> {
            assertThat(s.getValueCount()).isEqualTo(1);
            return s.getValue(0);
        }).sum();
        assertThat(total).isEqualTo(in.totalSamples());
    }

    @Test
    void pprofOfCpuKeepsSamplesAndCpuNanoseconds(@TempDir Path dir) throws Exception {
        ProfileProto.Profile p = pprof(SampleProfiles.small(), dir);
        assertThat(p.getSampleTypeList()).extracting(t -> str(p, t.getType()) + "/" + str(p, t.getUnit()))
                .containsExactly("samples/count", "cpu/nanoseconds");
        assertThat(p.getPeriod()).isEqualTo(SampleProfiles.PERIOD);
    }

    @Test
    void theFlameGraphDataCarriesTypeAndUnit() {
        assertThat(FlameGraphData.toJson(offCpu())).contains("\"sampleType\":\"off_cpu\"", "\"sampleUnit\":\"nanoseconds\"");
        assertThat(FlameGraphData.toJson(SampleProfiles.small())).contains("\"sampleType\":\"samples\"",
                "\"sampleUnit\":\"count\"");
    }
}
