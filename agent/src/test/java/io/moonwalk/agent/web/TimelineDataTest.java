package io.moonwalk.agent.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.store.ProfileKind;
import io.moonwalk.agent.store.WindowSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TimelineDataTest {
    private static WindowSummary w(long start, long samples, int pid, double traces, double flushes) {
        return new WindowSummary(start, 5000, samples, Map.of(pid, new WindowSummary.ProcessSamples("luajit", samples / 2)),
                Map.of("compiled", samples / 4), 1000, List.of(new WindowSummary.VmHealth(pid + "/vm1", (float) traces,
                0, 0, (float) flushes)));
    }

    @Test
    void ratesPerBucketGapsAndJitHealthOnTheSameBuckets() {
        List<WindowSummary> ws = new ArrayList<>();
        ws.add(w(0, 100, 7, 5, 0));
        ws.add(w(5000, 200, 7, 6, 0));
        // a 10 s gap: no window, a null rate
        ws.add(w(20_000, 50, 7, 2, 3));
        String json = TimelineData.json(ws, 7);
        assertThat(json).startsWith("{\"unit\":\"samples/s\",\"t\":[0.0,5.0,10.0,15.0,20.0],\"total\":[20.0,40.0,null,null,10.0]")
                .contains("{\"name\":\"pid 7\",\"values\":[10.0,20.0,null,null,5.0]}")
                .contains("\"name\":\"VM compiled\",\"values\":[5.0,10.0,null,null,2.4]")
                .contains("{\"vm\":\"7/vm1\",\"traces\":[5,6,null,null,2],\"mcode_bytes\":[0,0,null,null,0],"
                        + "\"max_mcode_bytes\":[0,0,null,null,0],\"flushes\":[0,0,null,null,3]}");
        // an off-CPU store's windows count blocked nanoseconds: the rates are ms blocked per second
        List<WindowSummary> off = new ArrayList<>();
        off.add(w(0, 100_000_000L, 7, 5, 0)); // 100 ms blocked in a 5 s window
        assertThat(TimelineData.json(off, 7, false, ProfileKind.OFF_CPU))
                .startsWith("{\"unit\":\"ms blocked/s\",\"t\":[0.0],\"total\":[20.0]")
                .contains("{\"name\":\"pid 7\",\"values\":[10.0]}");
        // an mmap store's windows count calls: calls per second
        List<WindowSummary> mmap = new ArrayList<>();
        mmap.add(w(0, 2500, 7, 5, 0)); // 2,500 calls in a 5 s window
        assertThat(TimelineData.json(mmap, 7, false, ProfileKind.MMAP))
                .startsWith("{\"unit\":\"calls/s\",\"t\":[0.0],\"total\":[500.0]")
                .contains("{\"name\":\"pid 7\",\"values\":[250.0]}");
    }

    @Test
    void abortSitesAreSummedOverTheWindowsBusiestFirst() {
        List<WindowSummary> ws = new ArrayList<>();
        WindowSummary.AbortSite nyi = new WindowSummary.AbortSite("7/vm1", "function <a.lua:3> (a.lua:5)",
                "NYI: bytecode", 4);
        WindowSummary.AbortSite unroll = new WindowSummary.AbortSite("7/vm1", "main chunk (a.lua:20)",
                "loop unroll limit reached", 3);
        ws.add(w(0, 100, 7, 5, 0).withAborts(List.of(nyi, unroll)));
        ws.add(w(5000, 100, 7, 5, 0).withAborts(List.of(unroll)));
        ws.add(w(10_000, 100, 7, 5, 0).withAborts(List.of(unroll)));
        String json = TimelineData.json(ws, 7);
        assertThat(json).endsWith(",\"aborts\":[{\"vm\":\"7/vm1\",\"site\":\"main chunk (a.lua:20)\","
                + "\"reason\":\"loop unroll limit reached\",\"count\":9,\"windows\":3,\"last\":15.0},"
                // script-safe: < and > escaped, so a site name can never close the page's script element
                + "{\"vm\":\"7/vm1\",\"site\":\"function \\u003ca.lua:3\\u003e (a.lua:5)\",\"reason\":\"NYI: bytecode\","
                + "\"count\":4,\"windows\":1,\"last\":5.0}]}");
        assertThat(TimelineData.json(ws, 7, false)).endsWith(",\"aborts\":[]}");
    }

    @Test
    void aDayOfWindowsIs720Points() {
        List<WindowSummary> ws = new ArrayList<>();
        for (int i = 0; i < 17_280; i++) {
            ws.add(w(i * 5000L, 190, 7, i, i / 1000));
        }
        String json = TimelineData.json(ws, 0);
        String t = json.substring(json.indexOf("[") + 1, json.indexOf("]"));
        assertThat(t.split(",")).hasSize(TimelineData.MAX_BUCKETS);
        assertThat(json.length()).isLessThan(64 * 1024);
    }
}
