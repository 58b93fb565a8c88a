package io.moonwalk.process;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

@Tag("tools")
class CgroupContainerIdTest {
    static final String ID = "3f7b2c1d9e8a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
    static final String ID2 = "aaaabbbbccccddddeeeeffff00001111222233334444555566667777888899990";

    @Test
    void dockerSystemdDriverOnCgroupV2() {
        assertThat(CgroupContainerId.parse("0::/system.slice/docker-" + ID + ".scope\n")).isEqualTo(ID);
    }

    @Test
    void dockerCgroupfsDriverOnCgroupV1() {
        String text = """
                12:pids:/docker/%1$s
                11:memory:/docker/%1$s
                4:cpu,cpuacct:/docker/%1$s
                1:name=systemd:/docker/%1$s
                0::/system.slice/containerd.service
                """.formatted(ID);
        assertThat(CgroupContainerId.parse(text)).isEqualTo(ID);
    }

    @Test
    void kubernetesContainerdSystemdDriver() {
        String text = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b3c4d_5e6f_7a8b_9c0d_"
                + "1e2f3a4b5c6d.slice/cri-containerd-" + ID + ".scope\n";
        assertThat(CgroupContainerId.parse(text)).isEqualTo(ID);
    }

    @Test
    void kubernetesCgroupfsDriverBareId() {
        String text = "11:memory:/kubepods/besteffort/pod1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d/" + ID + "\n"
                + "0::/\n";
        assertThat(CgroupContainerId.parse(text)).isEqualTo(ID);
    }

    @Test
    void crio() {
        String text = "0::/kubepods.slice/kubepods-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/crio-" + ID + ".scope";
        assertThat(CgroupContainerId.parse(text)).isEqualTo(ID);
        // conmon is CRI-O's monitor process, outside the container.
        assertThat(CgroupContainerId.parse("0::/machine.slice/crio-conmon-" + ID + ".scope")).isEmpty();
    }

    @Test
    void podman() {
        assertThat(CgroupContainerId.parse("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-"
                + ID + ".scope/container\n")).isEqualTo(ID);
        assertThat(CgroupContainerId.parse("0::/machine.slice/libpod-" + ID + ".scope\n")).isEqualTo(ID);
        assertThat(CgroupContainerId.parse("0::/machine.slice/libpod-conmon-" + ID + ".scope\n")).isEmpty();
        assertThat(CgroupContainerId.parse("3:memory:/libpod_parent/libpod-" + ID + "\n")).isEqualTo(ID);
    }

    @Test
    void hostAndSystemdServicesHaveNoContainer() {
        assertThat(CgroupContainerId.parse("0::/\n")).isEmpty();
        assertThat(CgroupContainerId.parse("0::/system.slice/nginx.service\n")).isEmpty();
        assertThat(CgroupContainerId.parse("0::/user.slice/user-0.slice/session-3.scope\n")).isEmpty();
        assertThat(CgroupContainerId.parse("""
                9:name=systemd:/
                4:memory:/process_api/aad6322da14c8fcdae49a671a23c6c95
                0::/
                """)).isEmpty();
        assertThat(CgroupContainerId.parse("")).isEmpty();
        assertThat(CgroupContainerId.parse(null)).isEmpty();
        // Uppercase or wrong-length hex is not a container ID.
        assertThat(CgroupContainerId.parse("0::/docker/" + ID.toUpperCase())).isEmpty();
        assertThat(CgroupContainerId.parse("0::/docker/" + ID2)).isEmpty();
    }

    @Test
    void nestedContainersResolveToTheInnermost() {
        String inner = ID.replace('3', 'a');
        assertThat(CgroupContainerId.parse("0::/docker/" + ID + "/docker/" + inner + "\n")).isEqualTo(inner);
    }

    @Test
    void ownProcessParsesWithoutError() throws java.io.IOException {
        ProcessInfo self = ProcessInfo.read((int) ProcessHandle.current().pid());
        String expected = CgroupContainerId.parse(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/cgroup")));
        assertThat(self.containerId()).isEqualTo(expected);
    }
}
