package io.moonwalk.agent.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.output.FoldedWriter;
import io.moonwalk.agent.output.PprofWriter;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** container.id shows wherever processes show: folded root frames, pprof labels, and back from the store. */
@Tag("pure")
class ContainerIdOutputsTest {
    private static final String ID = "4ab8b24a3361" + "0".repeat(52);

    private static Profile profile() {
        Frame main = Frame.nativeCode("main", 0x1000, CodeMapping.NONE);
        ProcessIdentity inContainer = new ProcessIdentity(10, "nginx", "/usr/sbin/nginx", ID);
        ProcessIdentity onHost = new ProcessIdentity(11, "nginx", "/usr/sbin/nginx", "");
        return new Profile(0, 1_000_000_000L, 10_000_000L, List.of(
                new Profile.Entry(inContainer, "nginx", List.of(main), Map.of(), 3),
                new Profile.Entry(onHost, "nginx", List.of(main), Map.of(), 2)));
    }

    @Test
    void foldedRootFrameNamesTheContainer() {
        assertThat(FoldedWriter.collapse(profile())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "nginx (container 4ab8b24a3361);main", 3L, "nginx;main", 2L));
    }

    @Test
    void pprofCarriesTheFullIdAndTheStoreReadsItBack() {
        Profile back = PprofReader.toModel(PprofWriter.toProto(profile()), "test");
        assertThat(back.entries()).extracting(e -> e.process().containerId()).containsExactlyInAnyOrder(ID, "");
        assertThat(back.entries()).allSatisfy(e -> assertThat(e.labels()).doesNotContainKey("container.id"));
    }
}
